import { describe, expect, it } from 'vitest';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../src/format.js';
import { SegmentLog } from '../src/index.js';
import { bytes, tempDir } from './helpers.js';

describe('rolling', () => {
  it('rolls by age of the records in the segment', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentMs: 1000 });
    log.appendBatch([0, 500, 1000, 1001, 1500, 2001, 2002].map((timestamp) => ({ value: bytes('v'), timestamp })));
    expect(log.segments().map((segment) => [segment.baseOffset, segment.records])).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    expect(log.segments().map((segment) => segment.sealed)).toEqual([true, true, false]);
  });

  it('rolls on request, and not an empty segment', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir);
    expect(log.roll()).toBe(0);
    log.append({ value: bytes('a'), timestamp: 1 });
    expect(log.roll()).toBe(1);
    expect(log.roll()).toBe(1);
    expect(log.segments().map((segment) => [segment.baseOffset, segment.sealed])).toEqual([
      [0, true],
      [1, false],
    ]);
  });

  it('gives a record larger than segmentBytes a segment of its own', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 200 });
    log.append({ value: bytes('small'), timestamp: 1 });
    log.append({ value: new Uint8Array(1000), timestamp: 2 });
    log.append({ value: bytes('small'), timestamp: 3 });
    expect(log.segments().map((segment) => segment.records)).toEqual([1, 1, 1]);
    expect(log.read(1)[0]!.value.length).toBe(1000);
  });

  it('starts a batch that does not fit the rest of the active segment in the next one, whole, and splits only one larger than a segment', async () => {
    const dir = tempDir();
    // A 30-byte value takes 34 bytes in a frame (see below); a segment holds two frames of up to five records each.
    const segmentBytes = HEADER_BYTES + 2 * BATCH_OVERHEAD_BYTES + 5 * 34;
    const oneFrameMax = Math.floor((segmentBytes - HEADER_BYTES - BATCH_OVERHEAD_BYTES) / 34);
    const batch = (count: number, from: number) => Array.from({ length: count }, (_, index) => ({ value: bytes(String(from + index).padStart(30, '-')), timestamp: 1 }));
    {
      await using log = await SegmentLog.open(dir, { segmentBytes });
      log.appendBatch(batch(3, 0));
      // Two of these three would fit beside the first three: the batch rolls first instead of spanning the roll.
      log.appendBatch(batch(3, 3));
      expect(log.segments().map((segment) => [segment.baseOffset, segment.records])).toEqual([
        [0, 3],
        [3, 3],
      ]);
      // Larger than a segment: it starts in a new one, fills it and goes on in the next.
      log.appendBatch(batch(oneFrameMax + 2, 6));
      expect(log.segments().map((segment) => [segment.baseOffset, segment.records])).toEqual([
        [0, 3],
        [3, 3],
        [6, oneFrameMax],
        [6 + oneFrameMax, 2],
      ]);
    }
    await using log = await SegmentLog.open(dir, { segmentBytes });
    const values = log.read(0, { maxRecords: 100 }).map((record) => new TextDecoder().decode(record.value));
    expect(values).toEqual(Array.from({ length: oneFrameMax + 8 }, (_, index) => String(index).padStart(30, '-')));
  });

  it('reports segment timestamps, including minimums learned after reopen', async () => {
    const dir = tempDir();
    // A 30-byte value takes 34 bytes in a frame (timestamp delta, key length, value length
    // and header count of one byte each): two records and their frame fill a segment, so
    // the six records land in pairs and a segment's first record is not its smallest.
    const segmentBytes = HEADER_BYTES + BATCH_OVERHEAD_BYTES + 2 * 34;
    {
      await using log = await SegmentLog.open(dir, { segmentBytes });
      log.appendBatch([50, 20, 70, 10, 90, 30].map((timestamp) => ({ value: bytes('x'.repeat(30)), timestamp })));
    }
    await using log = await SegmentLog.open(dir, { segmentBytes });
    expect(log.segments().map((segment) => segment.records)).toEqual([2, 2, 2]);
    const segments = log.segments();
    expect(segments.map((segment) => [segment.minTimestamp, segment.maxTimestamp])).toEqual([
      [20, 50],
      [10, 70],
      [30, 90],
    ]);
  });
});
