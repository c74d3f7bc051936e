// Appends prepare their batches into typed columns the log keeps from one append to the
// next. A later, smaller batch must not see a longer one's numbers, a batch larger than
// the kept columns gets its own, and an append made from inside another (a record's
// getter) must not write into the columns the outer append is still filling.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegmentLog, type AppendRecord } from '../src/index.js';
import { BATCH_COLUMNS_KEPT_RECORDS_MAX, BatchColumns, batchRecordBodyBytes, prepareBatch, timestampAt, type PreparedBatch } from '../src/record.js';
import { tempDir } from './helpers.js';

const recordsArbitrary = fc.array(
  fc.record({ value: fc.uint8Array({ maxLength: 40 }), timestamp: fc.integer({ min: -1000, max: 1000 }) }, { requiredKeys: ['value'] }),
  { minLength: 1, maxLength: 30 },
);

/** Each record's timestamp and body size, as the encoder reads them. */
function perRecord(batch: PreparedBatch): [number, number][] {
  return Array.from({ length: batch.count }, (_, index) => [timestampAt(batch, index), batchRecordBodyBytes(batch, index)]);
}

it('a batch prepared into kept columns holds exactly what one prepared into fresh columns holds, whatever batches came before', () => {
  const columns = new BatchColumns();
  fc.assert(
    fc.property(recordsArbitrary, (records) => {
      const kept = prepareBatch(records, 7, (index) => `records[${index}]`, columns);
      const fresh = prepareBatch(records, 7, (index) => `records[${index}]`);
      expect(kept.count).toBe(fresh.count);
      expect(kept.bytesBound).toBe(fresh.bytesBound);
      expect(perRecord(kept)).toEqual(perRecord(fresh));
      expect(perRecord(kept)).toEqual(records.map((record, index) => [record.timestamp ?? 7, batchRecordBodyBytes(fresh, index)]));
      expect(kept.values.slice(0, kept.count)).toEqual(fresh.values);
      expect(kept.values.slice(0, kept.count).every((value, index) => value === records[index]?.value)).toBe(true);
      columns.release();
    }),
  );
});

it('released columns hold none of the caller\'s buffers, after a batch that was prepared and after one that failed part way', () => {
  const columns = new BatchColumns();
  const records: AppendRecord[] = Array.from({ length: 20 }, (_, index) => ({ value: new Uint8Array([index]) }));
  prepareBatch(records, 7, (index) => `records[${index}]`, columns);
  columns.release();
  const callers = new Set<Uint8Array>(records.map((record) => record.value));
  expect(columns.values.some((value) => callers.has(value))).toBe(false);
  const failing = [...records.slice(0, 10), { value: 'not bytes' }] as unknown as AppendRecord[];
  expect(() => prepareBatch(failing, 7, (index) => `records[${index}]`, columns)).toThrow(/records\[10\]\.value/);
  columns.release();
  expect(columns.values.some((value) => callers.has(value))).toBe(false);
});

it('a batch larger than the kept columns may grow gets columns of its own', () => {
  const columns = new BatchColumns();
  const records = Array.from({ length: BATCH_COLUMNS_KEPT_RECORDS_MAX + 1 }, (_, index) => ({ value: new Uint8Array(1), timestamp: index }));
  const batch = prepareBatch(records, 7, (index) => `records[${index}]`, columns);
  expect(batch.values).not.toBe(columns.values);
  expect(batch.timestamps).not.toBe(columns.timestamps);
  expect(batch.timestamps?.length).toBe(records.length);
  expect(columns.timestamps.length).toBeLessThanOrEqual(BATCH_COLUMNS_KEPT_RECORDS_MAX);
});

it('an append made from inside another (a record getter) keeps both batches as they were given', async () => {
  await using log = await SegmentLog.open(tempDir(), { durability: { mode: 'explicit' } });
  log.appendBatch([{ value: new Uint8Array([1]), timestamp: 1 }]);
  let inner = -1;
  const reentrant: AppendRecord = {
    timestamp: 11,
    get value(): Uint8Array {
      if (inner < 0) inner = log.appendBatch([{ value: new Uint8Array([9]), timestamp: 99 }, { value: new Uint8Array([8]), timestamp: 98 }]);
      return new Uint8Array([2]);
    },
  };
  const first = log.appendBatch([{ value: new Uint8Array([0]), timestamp: 10 }, reentrant, { value: new Uint8Array([3]), timestamp: 12 }]);
  expect(inner).toBe(1);
  expect(first).toBe(3);
  const records = log.read(0).map((record) => [record.offset, record.timestamp, [...record.value]]);
  expect(records).toEqual([
    [0, 1, [1]],
    [1, 99, [9]],
    [2, 98, [8]],
    [3, 10, [0]],
    [4, 11, [2]],
    [5, 12, [3]],
  ]);
});
