import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SealedFileCache } from '../src/file-cache.js';
import { HEADER_BYTES, INDEX_ENTRIES_MAX, RECORD_FRAME_BYTES_MIN, segmentPaths } from '../src/format.js';
import { Segment } from '../src/segment.js';

/** A segment in memory only: accounting never touches its file. */
function segmentInMemory(): Segment {
  return new Segment(0, segmentPaths('/accounting-only', 0), () => {
    throw new Error('the accounting opened the log');
  }, new SealedFileCache());
}

/**
 * An offset-index column `entriesLeft` entries short of the index's limit: it counts as
 * that long, and keeps only what is pushed after (22 M real entries per run would be slow).
 */
class NearlyFullColumn {
  length: number;
  readonly pushed: number[] = [];

  constructor(entriesLeft: number) {
    this.length = INDEX_ENTRIES_MAX - 1 - entriesLeft;
  }

  push(value: number): number {
    this.pushed.push(value);
    return ++this.length;
  }
}

function nearlyFullIndex(segment: Segment, entriesLeft: number): void {
  const { index } = segment;
  index.offsetRelative = new NearlyFullColumn(entriesLeft) as unknown as number[];
  index.offsetPosition = new NearlyFullColumn(entriesLeft) as unknown as number[];
  index.offsetGuard = new NearlyFullColumn(entriesLeft) as unknown as number[];
}

/** The entries of a column: all of a plain one, those pushed of a nearly full one. */
function entriesOf(column: ArrayLike<number>): number[] {
  return column instanceof NearlyFullColumn ? column.pushed : Array.from(column);
}

/** Everything the accounting sets: sizes, timestamps and both sparse indexes. */
function accountingOf(segment: Segment): unknown {
  const { index } = segment;
  return {
    records: segment.records,
    size: segment.size,
    firstTimestamp: segment.firstTimestamp,
    minTimestamp: segment.minTimestamp,
    maxTimestamp: segment.maxTimestamp,
    maxTimestampRelative: segment.maxTimestampRelative,
    lastIndexedPosition: segment.lastIndexedPosition,
    entries: index.offsetRelative.length,
    offsetRelative: entriesOf(index.offsetRelative),
    offsetPosition: entriesOf(index.offsetPosition),
    offsetGuard: entriesOf(index.offsetGuard),
    timeTimestamp: entriesOf(index.timeTimestamp),
    timeRelative: entriesOf(index.timeRelative),
    timeGuard: entriesOf(index.timeGuard),
  };
}

const recordArbitrary = fc.record({
  // Timestamps go backwards as often as forwards: the time index keeps maximums.
  timestamp: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(Number.MIN_SAFE_INTEGER), fc.constant(Number.MAX_SAFE_INTEGER)),
  frameBytes: fc.oneof(fc.constant(RECORD_FRAME_BYTES_MIN), fc.integer({ min: RECORD_FRAME_BYTES_MIN, max: 400 }), fc.integer({ min: RECORD_FRAME_BYTES_MIN, max: 70_000 })),
});

it('accounts for runs of records exactly as record by record: sizes, timestamps, sparse offset and time entries across index intervals', () => {
  fc.assert(
    fc.property(
      fc.array(recordArbitrary, { minLength: 0, maxLength: 120 }),
      // Where the records are cut into runs (each cut a position into the records).
      fc.array(fc.nat(120), { maxLength: 6 }),
      // Intervals smaller than a frame (every record indexed), about a frame, spanning several, and
      // whole numbers of the smallest frame (a record lands exactly on the interval's end).
      fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 300, max: 8192 }), fc.integer({ min: 1, max: 12 }).map((frames) => frames * RECORD_FRAME_BYTES_MIN)),
      // A full index stops taking offset entries: start some runs a few entries short of it.
      fc.option(fc.nat(4), { nil: null }),
      (records, cuts, intervalBytes, entriesLeft) => {
        const timestamps = Float64Array.from(records, (record) => record.timestamp);
        const frameBytes = Float64Array.from(records, (record) => record.frameBytes);
        const byRecord = segmentInMemory();
        const byRun = segmentInMemory();
        if (entriesLeft !== null) {
          nearlyFullIndex(byRecord, entriesLeft);
          nearlyFullIndex(byRun, entriesLeft);
        }
        let position = HEADER_BYTES;
        for (let record = 0; record < records.length; record++) {
          const end = position + (frameBytes[record] as number);
          byRecord.observe(timestamps[record] as number, position, end, intervalBytes);
          position = end;
        }
        const bounds = [...new Set([0, ...cuts.map((cut) => Math.min(cut, records.length)), records.length])].sort((a, b) => a - b);
        for (let run = 0; run + 1 < bounds.length; run++) byRun.observeRun(timestamps, frameBytes, bounds[run] as number, bounds[run + 1] as number, intervalBytes);
        // An empty run changes nothing.
        byRun.observeRun(timestamps, frameBytes, records.length, records.length, intervalBytes);
        expect(accountingOf(byRun)).toEqual(accountingOf(byRecord));
      },
    ),
    { numRuns: 500 },
  );
});

it('takes a batch of small records into the index at every interval it crosses, and the first record of a new segment as its first timestamp', () => {
  const segment = segmentInMemory();
  const count = 1000;
  const timestamps = Float64Array.from({ length: count }, (_, record) => 1_000 + (record % 7));
  const frameBytes = new Float64Array(count).fill(138);
  segment.observeRun(timestamps, frameBytes, 0, count, 4096);
  expect(segment.records).toBe(count);
  expect(segment.size).toBe(HEADER_BYTES + count * 138);
  expect(segment.firstTimestamp).toBe(1_000);
  expect([segment.minTimestamp, segment.maxTimestamp, segment.maxTimestampRelative]).toEqual([1_000, 1_006, 6]);
  // One entry per 4,096 bytes past the header's implied one: at records 30, 60, ... (30 × 138 = 4,140).
  expect(segment.index.offsetRelative).toHaveLength(Math.floor((count - 1) / 30));
  expect(segment.index.offsetRelative[0]).toBe(30);
  expect(segment.index.offsetPosition[0]).toBe(HEADER_BYTES + 30 * 138);
});
