import { CHUNK_READ_BYTES_DEFAULT } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../src/format.js';
import { SegmentLog, type AppendRecord, type RecordBatch } from '../src/index.js';
import { bytes, filesEndingWith, flipByte, tempDir } from './helpers.js';

interface Seen {
  offset: number;
  timestamp: number;
  key: number[] | null;
  value: number[];
  headers: [string, number[]][];
}

/** A batch's records copied out (a scan reuses its batch, so nothing is kept as a view). */
function copyOut(batch: RecordBatch, into: Seen[]): void {
  for (let index = 0; index < batch.count; index++) {
    const key = batch.key(index);
    into.push({
      offset: batch.offset(index),
      timestamp: batch.timestamp(index),
      key: key === null ? null : [...key],
      value: [...batch.value(index)],
      headers: batch.headers(index).map(([name, value]) => [name, [...value]]),
    });
  }
}

async function scanAll(log: SegmentLog, from?: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const batch of log.scan(from === undefined ? {} : { from })) copyOut(batch, seen);
  return seen;
}

function readAll(log: SegmentLog, from: number): Seen[] {
  const seen: Seen[] = [];
  for (let offset = from; offset < log.nextOffset; ) {
    const batch = log.readBatch(offset);
    copyOut(batch, seen);
    offset = batch.nextOffset ?? log.nextOffset;
  }
  return seen;
}

const recordArbitrary: fc.Arbitrary<AppendRecord> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 300 }),
  timestamp: fc.integer({ min: -1000, max: 1_000_000 }),
  headers: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.uint8Array({ maxLength: 8 })), { maxLength: 2 }),
});

describe('scan', () => {
  it('yields every record from any offset, across segments, as read() returns them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArbitrary, { maxLength: 150 }), fc.integer({ min: 400, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), async (records, segmentBytes, at) => {
        await using log = await SegmentLog.open(tempDir(), { segmentBytes, indexIntervalBytes: 200, durability: { mode: 'explicit' } });
        log.appendBatch(records);
        const from = Math.floor(at * log.nextOffset);
        const scanned = await scanAll(log, from);
        expect(scanned).toEqual(readAll(log, from));
        expect(scanned.map((record) => record.offset)).toEqual(Array.from({ length: log.nextOffset - from }, (_, index) => from + index));
      }),
      { numRuns: 40 },
    );
  });

  it('reads large segments in chunks, frames cut by a chunk end and frames larger than a chunk included', async () => {
    // Sized by the scan's read: segments of three chunks, records from tiny to larger than a chunk.
    const chunk = CHUNK_READ_BYTES_DEFAULT;
    await using log = await SegmentLog.open(tempDir(), { segmentBytes: 3 * chunk, durability: { mode: 'explicit' } });
    const sizes = [100, 4096, 70_000, chunk + 200_000, 3, chunk / 5];
    const records = Array.from({ length: 60 }, (_, index) => ({ value: new Uint8Array(sizes[index % sizes.length]! >> (index % 3)).fill(index & 0xff), timestamp: index }));
    for (let first = 0; first < records.length; first += 10) log.appendBatch(records.slice(first, first + 10));
    expect(log.segments().length).toBeGreaterThan(3);
    let batches = 0;
    const seen: Seen[] = [];
    for await (const batch of log.scan()) {
      batches++;
      copyOut(batch, seen);
    }
    expect(batches).toBeGreaterThan(log.segments().length);
    expect(seen.length).toBe(records.length);
    for (const [index, record] of seen.entries()) {
      expect(record.offset).toBe(index);
      expect(record.value.length).toBe(records[index]!.value.length);
      expect(record.value.every((byte) => byte === (index & 0xff))).toBe(true);
    }
  });

  it('refuses a damaged frame with KEEL_CORRUPT naming the file and byte', async () => {
    const dir = tempDir();
    // Index entries every 100 bytes: open checks only the frames after the last one.
    const log = await SegmentLog.open(dir, { segmentBytes: 2000, indexIntervalBytes: 100 });
    // One append() call per record, so one batch frame per record.
    for (let index = 0; index < 100; index++) log.append({ value: bytes(String(index).padStart(50, '0')), timestamp: index });
    await log.close();
    const damaged = filesEndingWith(dir, '.log')[1]!;
    // Each frame is its overhead plus one record of timestamp delta, key length, value
    // length, the 50-byte value and header count: damage the third frame of the second segment.
    const frameBytes = BATCH_OVERHEAD_BYTES + 1 + 1 + 1 + 50 + 1;
    flipByte(damaged, HEADER_BYTES + 2 * frameBytes + 40);
    await using reopened = await SegmentLog.open(dir);
    let caught: { code?: string; path?: string; offset?: number } = {};
    try {
      await scanAll(reopened);
    } catch (error) {
      caught = error as typeof caught;
    }
    expect(caught).toMatchObject({ code: 'KEEL_CORRUPT', path: damaged, offset: HEADER_BYTES + 2 * frameBytes });
  });

  it('ends quietly on close, stops on abort, and reports segments deleted under it', async () => {
    const log = await SegmentLog.open(tempDir(), { segmentBytes: 2000 });
    log.appendBatch(Array.from({ length: 200 }, (_, index) => ({ value: bytes('x'.repeat(50)), timestamp: index })));

    const aborting = new AbortController();
    const aborted = log.scan({ signal: aborting.signal });
    await aborted.next();
    aborting.abort(new Error('enough'));
    await expect(aborted.next()).rejects.toMatchObject({ code: 'KEEL_ABORTED' });

    const deleting = log.scan({ from: 0 });
    await deleting.next();
    await log.deleteBefore(150);
    await expect((async () => {
      for (let step = await deleting.next(); step.done !== true; step = await deleting.next());
    })()).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });

    const closing = log.scan();
    await closing.next();
    await log.close();
    expect((await closing.next()).done).toBe(true);
  });
});
