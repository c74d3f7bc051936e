import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFrameAt, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, PAGE_BYTES, pageOffsetOfView } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { encodeBatchRun, type RunLimits } from '../src/batch-encoder.js';
import { BATCH_FORMAT, BATCH_FRAME_BYTES_TARGET, BATCH_HEADER_BYTES, viewOf } from '../src/format.js';
import { FrameTable } from '../src/frame-table.js';
import { INDEX_WRITE_ENTRIES } from '../src/index-files.js';
import { SegmentLog, type AppendRecord } from '../src/index.js';
import { decodeHeaders, emptyBatchHeader, emptyLayout, measureRecordAt, readBatchHeader } from '../src/record-codec.js';
import { batchRecordBodyBytes, prepareBatch, recordsBytesBound, timestampAt, type PreparedBatch } from '../src/record.js';
import { varintBytes, zigzag } from '../src/varint.js';
import { WriteBuffer } from '../src/write-buffer.js';
import { tempDir } from './helpers.js';

const bytesArbitrary = (maxLength: number) => fc.uint8Array({ maxLength });

const recordArbitrary: fc.Arbitrary<AppendRecord> = fc.record({
  value: fc.oneof(bytesArbitrary(300), bytesArbitrary(5000)),
  key: fc.option(bytesArbitrary(200), { nil: null }),
  // Omitted: the batch's clock reading (7 here); a batch where none gives one has no timestamp column.
  timestamp: fc.option(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(Number.MIN_SAFE_INTEGER), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 })), { nil: undefined, freq: 3 }),
  headers: fc.option(fc.array(fc.tuple(fc.string({ maxLength: 6 }), bytesArbitrary(200)), { maxLength: 3 }), { nil: undefined }),
});

/** First offsets that make the low u32 half wrap inside a batch, and the largest ones a log can reach. */
const firstOffsetArbitrary = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 32 - 20, max: 2 ** 32 + 20 }), fc.integer({ min: 2 ** 53 - 1000, max: 2 ** 53 - 100 }));

/** Records `from` to `to - 1`'s timestamps. */
function timestampsOf(batch: PreparedBatch, from = 0, to = batch.count): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, index) => timestampAt(batch, from + index));
}

const NO_LIMITS: RunLimits = { roomBytes: Infinity, timestampMax: Infinity, segmentEmpty: false, writeBytesMax: Infinity, whole: false };

interface Decoded {
  offset: number;
  timestamp: number;
  key: number[] | null;
  value: number[];
  headers: [string, number[]][];
  frame: number;
}

/** Every record of the batch frames in `bytes` [0, end), checked frame by frame as a read checks them. */
function decodeRun(bytes: Uint8Array, end: number): { records: Decoded[]; frameEnds: number[] } {
  const view = viewOf(bytes);
  const header = emptyBatchHeader();
  const layout = emptyLayout();
  const records: Decoded[] = [];
  const frameEnds: number[] = [];
  for (let position = 0; position < end; ) {
    const check = checkFrameAt(bytes.subarray(0, end), position, BATCH_FORMAT);
    if (!check.ok) throw new Error(`frame at ${position} does not check: ${check.state}`);
    const payloadEnd = position + FRAME_HEADER_BYTES + check.payloadLength;
    if (!readBatchHeader(view, position + FRAME_HEADER_BYTES, payloadEnd, header)) throw new Error(`frame at ${position} has a malformed header`);
    let cursor = position + FRAME_HEADER_BYTES + BATCH_HEADER_BYTES;
    for (let record = 0; record < header.count; record++) {
      cursor = measureRecordAt(bytes, cursor, payloadEnd, header.baseTimestamp, layout);
      if (cursor < 0) throw new Error(`record ${record} of the frame at ${position} is malformed: ${layout.malformed}`);
      records.push({
        offset: header.baseOffset + record,
        timestamp: layout.timestamp,
        key: layout.keyStart < 0 ? null : [...bytes.subarray(layout.keyStart, layout.keyStart + layout.keyLength)],
        value: [...bytes.subarray(layout.valueStart, layout.valueStart + layout.valueLength)],
        headers: layout.headerCount === 0 ? [] : decodeHeaders(bytes.subarray(0, payloadEnd), layout.headersAt).map(([name, value]) => [name, [...value]]),
        frame: frameEnds.length,
      });
    }
    expect(cursor).toBe(payloadEnd);
    position += check.frameBytes;
    frameEnds.push(position);
  }
  return { records, frameEnds };
}

it('frames records into batch frames that check and decode to what was appended, whatever the buffer held before', () => {
  const buffer = new WriteBuffer();
  const frames = new FrameTable();
  fc.assert(
    fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 40 }), firstOffsetArbitrary, fc.nat(3), fc.nat(2 * PAGE_BYTES), (records, firstOffset, skip, position) => {
      const batch = prepareBatch(records, 7, (index) => `records[${index}]`);
      const from = Math.min(skip, batch.count - 1);
      // The buffer is reused across runs, placed for another file position each time: stale bytes from the previous run must not leak into this one.
      const target = buffer.reserve(batch.bytesBound, position);
      expect(pageOffsetOfView(target)).toBe(position % PAGE_BYTES);
      target.fill(0xa5);
      const taken = encodeBatchRun(target, buffer.view, batch, from, firstOffset, NO_LIMITS, frames);
      expect(taken).toBe(batch.count - from);
      const end = frames.end[frames.count - 1] as number;
      expect(end).toBeLessThanOrEqual(recordsBytesBound(Array.from({ length: taken }, (_, at) => batchRecordBodyBytes(batch, from + at)).reduce((sum, bytes) => sum + bytes, 0), taken));
      // The whole batch never encodes to fewer bytes than bytesMin, nor to more than bytesBound.
      if (from === 0) expect(end).toBeGreaterThanOrEqual(batch.bytesMin);
      if (from === 0) expect(end).toBeLessThanOrEqual(batch.bytesBound);
      const { records: decoded, frameEnds } = decodeRun(target, end);
      expect([...frames.end.subarray(0, frames.count)]).toEqual(frameEnds);
      expect(decoded.length).toBe(taken);
      decoded.forEach((record, at) => {
        const index = from + at;
        const appended = records[index] as AppendRecord;
        expect(record.offset).toBe(firstOffset + at);
        expect(record.timestamp).toBe(appended.timestamp ?? 7);
        expect(record.key).toEqual(appended.key === null ? null : [...(appended.key as Uint8Array)]);
        expect(record.value).toEqual([...appended.value]);
        expect(record.headers).toEqual((appended.headers ?? []).map(([name, value]) => [name, [...value]]));
        // The frame table names the first record of each frame.
        if (at === 0 || (decoded[at - 1] as Decoded).frame !== record.frame) expect(frames.firstRecord[record.frame]).toBe(index);
      });
      // A frame holding more than one record stays within the target size.
      frameEnds.forEach((frameEnd, frame) => {
        const size = frameEnd - (frame === 0 ? 0 : (frameEnds[frame - 1] as number));
        if (decoded.filter((record) => record.frame === frame).length > 1) expect(size).toBeLessThanOrEqual(BATCH_FRAME_BYTES_TARGET);
      });
    }),
    { numRuns: 300 },
  );
});

it('ends a run before the record that would break a limit, but an empty segment takes its first record whatever it is, and a whole run is taken whole or not at all', () => {
  const buffer = new WriteBuffer();
  const frames = new FrameTable();
  fc.assert(
    fc.property(
      fc.array(recordArbitrary, { minLength: 1, maxLength: 30 }),
      fc.record({ roomBytes: fc.integer({ min: 0, max: 20_000 }), timestampMax: fc.integer({ min: -1000, max: 1000 }), segmentEmpty: fc.boolean(), writeBytesMax: fc.integer({ min: 0, max: 20_000 }), whole: fc.boolean() }),
      (records, limits) => {
        const batch = prepareBatch(records, 7, (index) => `records[${index}]`);
        const target = buffer.reserve(batch.bytesBound, 0);
        const taken = encodeBatchRun(target, buffer.view, batch, 0, 0, limits, frames);
        const end = taken === 0 ? 0 : (frames.end[frames.count - 1] as number);
        if (taken > 0) expect(decodeRun(target, end).records.length).toBe(taken);
        // The first record of an empty segment is exempt (the writer's timestamp limit is that record's own, plus segmentMs).
        const checked = timestampsOf(batch, limits.segmentEmpty ? 1 : 0, taken);
        if (limits.segmentEmpty) expect(taken).toBeGreaterThan(0);
        if (taken > 1 || !limits.segmentEmpty) expect(end).toBeLessThanOrEqual(limits.roomBytes);
        expect(checked.every((timestamp) => timestamp <= limits.timestampMax)).toBe(true);
        if (taken > 1) expect(end).toBeLessThanOrEqual(limits.writeBytesMax);
        if (limits.whole && !limits.segmentEmpty && taken === 0) {
          // Taken whole or not at all: a record of the batch breaks the segment's room or age.
          encodeBatchRun(buffer.reserve(batch.bytesBound, 0), buffer.view, batch, 0, 0, NO_LIMITS, frames);
          expect((frames.end[frames.count - 1] as number) > limits.roomBytes || timestampsOf(batch).some((timestamp) => timestamp > limits.timestampMax)).toBe(true);
        } else if (taken < batch.count) {
          // The next record would have broken one: the run with it (framed alike, frames depend only on what came before) breaks a limit.
          const longer = prepareBatch(records.slice(0, taken + 1), 7, (index) => `records[${index}]`);
          encodeBatchRun(buffer.reserve(longer.bytesBound, 0), buffer.view, longer, 0, 0, NO_LIMITS, frames);
          const longerEnd = frames.end[frames.count - 1] as number;
          const next = timestampAt(longer, taken);
          const breaks = (taken > 0 || !limits.segmentEmpty) && (longerEnd > limits.roomBytes || next > limits.timestampMax);
          expect(breaks || (taken > 0 && longerEnd > limits.writeBytesMax)).toBe(true);
          // A whole run into a segment that holds records ends early only at the write limit: had a record broken the room or the age, it would have taken none.
          if (limits.whole && !limits.segmentEmpty && taken > 0) expect(longerEnd > limits.writeBytesMax && longerEnd <= limits.roomBytes && next <= limits.timestampMax).toBe(true);
        }
      },
    ),
    { numRuns: 300 },
  );
});

it('frames a batch of small records with a few bytes per record beyond the value', () => {
  const buffer = new WriteBuffer();
  const frames = new FrameTable();
  const batch = prepareBatch(Array.from({ length: 1000 }, () => ({ value: new Uint8Array(100) })), 7, String);
  const taken = encodeBatchRun(buffer.reserve(batch.bytesBound, 0), buffer.view, batch, 0, 0, NO_LIMITS, frames);
  expect(taken).toBe(1000);
  const end = frames.end[frames.count - 1] as number;
  // Per record: timestamp delta, key field, value length (a byte each), the value, header count; per 4 KiB frame its overhead.
  expect(end).toBe(1000 * 104 + frames.count * (FRAME_OVERHEAD_BYTES + BATCH_HEADER_BYTES));
  expect(frames.count).toBe(Math.ceil(1000 / Math.floor((BATCH_FRAME_BYTES_TARGET - FRAME_OVERHEAD_BYTES - BATCH_HEADER_BYTES) / 104)));
});

it('fills each frame as far as the frame target allows, to the byte, whatever the records\' size and timestamps', () => {
  const buffer = new WriteBuffer();
  const frames = new FrameTable();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 20, maxLength: 120 }),
        // One size for all: 123-byte values fill a frame exactly (32 records of 127 bytes and the frame's 32).
        fc.tuple(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(123)), fc.integer({ min: 20, max: 120 })).map(([bytes, count]) => new Array<number>(count).fill(bytes)),
      ),
      fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
      (valueBytes, step) => {
        const records = valueBytes.map((bytes, index) => ({ value: new Uint8Array(bytes), ...(step === undefined ? {} : { timestamp: index * step }) }));
        const batch = prepareBatch(records, 7, (index) => `records[${index}]`);
        const target = buffer.reserve(batch.bytesBound, 0);
        encodeBatchRun(target, buffer.view, batch, 0, 0, NO_LIMITS, frames);
        const { records: decoded, frameEnds } = decodeRun(target, frames.end[frames.count - 1] as number);
        frameEnds.forEach((frameEnd, frame) => {
          const size = frameEnd - (frame === 0 ? 0 : (frameEnds[frame - 1] as number));
          expect(size).toBeLessThanOrEqual(BATCH_FRAME_BYTES_TARGET);
          if (frame + 1 === frameEnds.length) return;
          // The next frame's first record did not fit: its delta from this frame's first timestamp, then its body.
          const next = decoded.findIndex((record) => record.frame === frame + 1);
          const first = decoded.findIndex((record) => record.frame === frame);
          const delta = timestampAt(batch, next) - timestampAt(batch, first);
          const deltaBytes = delta === 0 ? 1 : varintBytes(zigzag(delta));
          expect(size + deltaBytes + batchRecordBodyBytes(batch, next)).toBeGreaterThan(BATCH_FRAME_BYTES_TARGET);
        });
      },
    ),
    { numRuns: 300 },
  );
});

it('appends the active index files in pieces while open and every durable entry at close, as open would rebuild them', async () => {
  const dir = tempDir();
  const options = { indexIntervalBytes: 1, durability: { mode: 'explicit' } } as const;
  const log = await SegmentLog.open(dir, options);
  // A frame of its own per record, so one index entry per record.
  const value = new Uint8Array(BATCH_FRAME_BYTES_TARGET);
  const count = INDEX_WRITE_ENTRIES / 4;
  log.appendBatch(Array.from({ length: count }, (_, index) => ({ value, timestamp: index })));
  await log.sync();
  const indexPath = join(dir, `${'0'.repeat(20)}.index`);
  // Fewer entries than one piece wait in memory: the file is a (here empty) prefix.
  expect(readFileSync(indexPath).length).toBe(0);
  await log.close();
  const atClose = readFileSync(indexPath);
  // One entry per record but the first (implied at the segment's start).
  expect(atClose.length).toBe((count - 1) * 8);
  const reopened = await SegmentLog.open(dir, options);
  expect(reopened.recovery.actions.filter((action) => action.kind === 'rebuilt-index')).toEqual([]);
  await reopened.close();
  expect(readFileSync(indexPath)).toEqual(atClose);
});
