import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SealedFileCache } from '../src/file-cache.js';
import { BATCH_FRAME_BYTES_MIN, HEADER_BYTES, INDEX_ENTRIES_MAX, segmentPaths } from '../src/format.js';
import { FrameTable } from '../src/frame-table.js';
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

const frameArbitrary = fc.record({
  // Timestamps go backwards as often as forwards: the time index keeps maximums.
  timestamps: fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(Number.MIN_SAFE_INTEGER), fc.constant(Number.MAX_SAFE_INTEGER)), { minLength: 1, maxLength: 6 }),
  frameBytes: fc.oneof(fc.constant(BATCH_FRAME_BYTES_MIN), fc.integer({ min: BATCH_FRAME_BYTES_MIN, max: 400 }), fc.integer({ min: BATCH_FRAME_BYTES_MIN, max: 70_000 })),
});

interface Frames {
  timestamps: Float64Array;
  /** Per frame: its first record, and its size. */
  first: number[];
  bytes: number[];
}

function framesOf(frames: readonly { timestamps: number[]; frameBytes: number }[]): Frames {
  const first: number[] = [];
  let records = 0;
  for (const frame of frames) {
    first.push(records);
    records += frame.timestamps.length;
  }
  return { timestamps: Float64Array.from(frames.flatMap((frame) => frame.timestamps)), first, bytes: frames.map((frame) => frame.frameBytes) };
}

/** The frame table of frames [from, to): ends from the run's start, first records as batch indices. */
function tableOf(frames: Frames, from: number, to: number): FrameTable {
  const table = new FrameTable();
  let end = 0;
  for (let frame = from; frame < to; frame++) {
    end += frames.bytes[frame] as number;
    table.push(frames.first[frame] as number, end);
  }
  return table;
}

function recordsBefore(frames: Frames, frame: number): number {
  return frame < frames.first.length ? (frames.first[frame] as number) : frames.timestamps.length;
}

it('accounts for runs of batch frames exactly as record by record: sizes, timestamps, sparse offset and time entries across index intervals', () => {
  fc.assert(
    fc.property(
      fc.array(frameArbitrary, { minLength: 0, maxLength: 60 }),
      // Where the frames are cut into runs (each cut a position into the frames).
      fc.array(fc.nat(60), { maxLength: 6 }),
      // Intervals smaller than a frame (every frame indexed), about a frame, spanning several, and
      // whole numbers of the smallest frame (a frame lands exactly on the interval's end).
      fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 300, max: 8192 }), fc.integer({ min: 1, max: 12 }).map((frames) => frames * BATCH_FRAME_BYTES_MIN)),
      // A full index stops taking offset entries: start some runs a few entries short of it.
      fc.option(fc.nat(4), { nil: null }),
      // Records that share one timestamp (as those of batches whose records give none do): the
      // runs alternate between passing no timestamp column and a column of it.
      fc.option(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(Number.MIN_SAFE_INTEGER), fc.constant(Number.MAX_SAFE_INTEGER)), { nil: null }),
      (generated, cuts, intervalBytes, entriesLeft, shared) => {
        const frames = framesOf(generated);
        if (shared !== null) frames.timestamps.fill(shared);
        const byRecord = segmentInMemory();
        const byRun = segmentInMemory();
        if (entriesLeft !== null) {
          nearlyFullIndex(byRecord, entriesLeft);
          nearlyFullIndex(byRun, entriesLeft);
        }
        // Record by record, as recovery observes them: each with its frame's position and end.
        let position = HEADER_BYTES;
        for (let frame = 0; frame < generated.length; frame++) {
          const end = position + (frames.bytes[frame] as number);
          for (let record = recordsBefore(frames, frame); record < recordsBefore(frames, frame + 1); record++) byRecord.observe(frames.timestamps[record] as number, position, end, intervalBytes);
          position = end;
        }
        const bounds = [...new Set([0, ...cuts.map((cut) => Math.min(cut, generated.length)), generated.length])].sort((a, b) => a - b);
        for (let run = 0; run + 1 < bounds.length; run++) {
          const from = bounds[run] as number;
          const to = bounds[run + 1] as number;
          const column = shared !== null && run % 2 === 0 ? null : frames.timestamps;
          byRun.observeRun(column, shared ?? 0, recordsBefore(frames, from), recordsBefore(frames, to), tableOf(frames, from, to), intervalBytes);
        }
        // An empty run changes nothing.
        byRun.observeRun(frames.timestamps, 0, frames.timestamps.length, frames.timestamps.length, new FrameTable(), intervalBytes);
        expect(accountingOf(byRun)).toEqual(accountingOf(byRecord));
      },
    ),
    { numRuns: 500 },
  );
});

it('indexes a batch of small records at the first frame past every interval it crosses, and takes the first record of a new segment as its first timestamp', () => {
  const segment = segmentInMemory();
  const count = 1000;
  const timestamps = Float64Array.from({ length: count }, (_, record) => 1_000 + (record % 7));
  // Frames of 39 records of 104 bytes (4,088 bytes with their overhead), as 100-byte values make them.
  const table = new FrameTable();
  let end = 0;
  for (let first = 0; first < count; first += 39) {
    end += Math.min(39, count - first) * 104 + 32;
    table.push(first, end);
  }
  segment.observeRun(timestamps, 0, 0, count, table, 4096);
  expect(segment.records).toBe(count);
  expect(segment.size).toBe(HEADER_BYTES + end);
  expect(segment.firstTimestamp).toBe(1_000);
  expect([segment.minTimestamp, segment.maxTimestamp, segment.maxTimestampRelative]).toEqual([1_000, 1_006, 6]);
  // The header's frame is implied; 4,088-byte frames pass the 4,096-byte interval every other frame: frames 2, 4, 6, …
  expect(segment.index.offsetRelative[0]).toBe(2 * 39);
  expect(segment.index.offsetPosition[0]).toBe(HEADER_BYTES + 2 * 4088);
  expect(segment.index.offsetRelative).toHaveLength(Math.floor((table.count - 1) / 2));
});
