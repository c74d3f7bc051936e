import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFrameAt, FRAME_HEADER_BYTES } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { RECORD_FORMAT, viewOf } from '../src/format.js';
import { INDEX_WRITE_ENTRIES } from '../src/index-files.js';
import { SegmentLog, type AppendRecord } from '../src/index.js';
import { decodeRecordAt } from '../src/record-codec.js';
import { encodeRecordRun } from '../src/record-encoder.js';
import { prepareBatch } from '../src/record.js';
import { WriteBuffer } from '../src/write-buffer.js';
import { tempDir } from './helpers.js';

const bytesArbitrary = (maxLength: number) => fc.uint8Array({ maxLength });

const recordArbitrary: fc.Arbitrary<AppendRecord> = fc.record({
  value: bytesArbitrary(300),
  key: fc.option(bytesArbitrary(20), { nil: null }),
  timestamp: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(Number.MIN_SAFE_INTEGER), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 })),
  headers: fc.option(fc.array(fc.tuple(fc.string({ maxLength: 6 }), bytesArbitrary(10)), { maxLength: 3 }), { nil: undefined }),
});

/** First offsets that make the low u32 half wrap inside a batch, and the largest ones a log can reach. */
const firstOffsetArbitrary = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 32 - 20, max: 2 ** 32 + 20 }), fc.integer({ min: 2 ** 53 - 1000, max: 2 ** 53 - 100 }));

it('frames every record of a batch so that it checks and decodes to what was appended, whatever the buffer held before', () => {
  const buffer = new WriteBuffer();
  fc.assert(
    fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 40 }), firstOffsetArbitrary, fc.nat(3), (records, firstOffset, skip) => {
      const batch = prepareBatch(records, 7, (index) => `records[${index}]`);
      const from = Math.min(skip, batch.count - 1);
      let bytes = 0;
      for (let index = from; index < batch.count; index++) bytes += batch.frameBytes[index] as number;
      // The buffer is reused across runs: stale bytes from the previous run must not leak into this one.
      const target = buffer.reserve(bytes + 5);
      target.fill(0xa5);
      const end = encodeRecordRun(target, buffer.view, 5, batch, from, batch.count, firstOffset);
      expect(end).toBe(bytes + 5);
      const view = viewOf(target);
      let position = 5;
      for (let index = from; index < batch.count; index++) {
        const check = checkFrameAt(target.subarray(0, end), position, RECORD_FORMAT);
        if (!check.ok) throw new Error(`frame ${index} does not check: ${check.state}`);
        expect(check.frameBytes).toBe(batch.frameBytes[index]);
        const start = position + FRAME_HEADER_BYTES;
        const decoded = decodeRecordAt(target, view, start, start + check.payloadLength, 'batch', position);
        const record = records[index] as AppendRecord;
        expect(decoded.offset).toBe(firstOffset + index - from);
        expect(decoded.timestamp).toBe(record.timestamp);
        expect(decoded.key === null ? null : [...decoded.key]).toEqual(record.key === null ? null : [...(record.key as Uint8Array)]);
        expect([...decoded.value]).toEqual([...record.value]);
        expect(decoded.headers.map(([name, value]) => [name, [...value]])).toEqual((record.headers ?? []).map(([name, value]) => [name, [...value]]));
        position += check.frameBytes;
      }
      expect(position).toBe(end);
    }),
    { numRuns: 300 },
  );
});

it('appends the active index files in pieces while open and every durable entry at close, as open would rebuild them', async () => {
  const dir = tempDir();
  const options = { indexIntervalBytes: 1, durability: { mode: 'explicit' } } as const;
  const log = await SegmentLog.open(dir, options);
  const value = new Uint8Array(10);
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
