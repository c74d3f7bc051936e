// Reads over batch frames: appends of varied sizes make frames of many records, frames
// split inside one append at 4 KiB, and one-record frames; segments roll inside appends
// and retention moves the start inside a frame. Whatever the offset and the limits, read(),
// readBatch() and scan() must return exactly the records appended there, in order.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegmentLog, type LogRecord, type RecordBatch } from '../src/index.js';
import { tempDir } from './helpers.js';

interface Appended {
  value: Uint8Array;
  key: Uint8Array | null;
  timestamp: number;
}

const recordArbitrary = fc.record({
  value: fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ minLength: 300, maxLength: 2500 })),
  key: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 10_000 }),
});

const readArbitrary = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  maxRecords: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }),
  maxBytes: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
});

function plain(record: { offset: number; timestamp: number; key: Uint8Array | null; value: Uint8Array }): unknown {
  return { offset: record.offset, timestamp: record.timestamp, key: record.key === null ? null : [...record.key], value: [...record.value] };
}

function ofBatch(batch: RecordBatch): unknown[] {
  return Array.from({ length: batch.count }, (_, index) => plain({ offset: batch.offset(index), timestamp: batch.timestamp(index), key: batch.key(index), value: batch.value(index) }));
}

function expected(appended: readonly Appended[], from: number, count: number): unknown[] {
  return appended.slice(from, from + count).map((record, index) => plain({ ...record, offset: from + index }));
}

it('reads from any offset with any limits return the records appended there, across frames, segments and a moved start', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.array(readArbitrary, { minLength: 1, maxLength: 8 }),
      async (batches, moveStart, reads) => {
        const dir = tempDir();
        await using log = await SegmentLog.open(dir, { segmentBytes: 16 * 1024, indexIntervalBytes: 1024, durability: { mode: 'explicit' } });
        const appended: Appended[] = [];
        for (const batch of batches) {
          log.appendBatch(batch);
          appended.push(...batch);
        }
        await log.deleteBefore(Math.floor(moveStart * appended.length));
        const start = log.startOffset;
        for (const { at, maxRecords, maxBytes } of reads) {
          const offset = start + Math.floor(at * (appended.length - start));
          if (offset >= appended.length) continue;
          const options = { ...(maxRecords === undefined ? {} : { maxRecords }), ...(maxBytes === undefined ? {} : { maxBytes }) };
          const records = log.read(offset, options);
          // At least one record, never more than asked, and exactly the ones appended from there.
          expect(records.length).toBeGreaterThan(0);
          if (maxRecords !== undefined) expect(records.length).toBeLessThanOrEqual(maxRecords);
          expect(records.map((record: LogRecord) => plain(record))).toEqual(expected(appended, offset, records.length));
          // Without limits that stop it early, a read reaches the end.
          if (maxRecords === undefined && maxBytes === undefined) expect(records.length).toBe(appended.length - offset);
          using batch = log.readBatch(offset, options);
          expect(ofBatch(batch)).toEqual(records.map((record: LogRecord) => plain(record)));
        }
        const scanned: unknown[] = [];
        const from = start + Math.floor((reads[0] as { at: number }).at * (appended.length - start));
        for await (const batch of log.scan({ from })) scanned.push(...ofBatch(batch));
        expect(scanned).toEqual(expected(appended, from, appended.length - from));
        await log.close();
        await using reopened = await SegmentLog.open(dir, { segmentBytes: 16 * 1024, indexIntervalBytes: 1024, durability: { mode: 'explicit' } });
        const all = reopened.read(reopened.startOffset, { maxBytes: 1 << 24 });
        expect(all.map((record: LogRecord) => plain(record))).toEqual(expected(appended, reopened.startOffset, appended.length - reopened.startOffset));
      },
    ),
    { numRuns: 60 },
  );
});
