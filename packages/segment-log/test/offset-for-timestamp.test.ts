import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentLog, type SegmentLogOptions } from '../src/index.js';
import { bytes, faultyIo, newFaults, tempDir } from './helpers.js';
import { nativeIo } from '@keel/core';

function bruteForce(timestamps: readonly number[], target: number): number | undefined {
  const index = timestamps.findIndex((timestamp) => timestamp >= target);
  return index < 0 ? undefined : index;
}

describe('offsetForTimestamp', () => {
  it('finds the first offset at or after a timestamp when timestamps go backwards, before and after reopen', async () => {
    const options: SegmentLogOptions = { segmentBytes: 600, indexIntervalBytes: 64 };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 120 }), fc.array(fc.integer({ min: -10, max: 310 }), { minLength: 1, maxLength: 10 }), async (timestamps, targets) => {
        const dir = tempDir();
        {
          await using log = await SegmentLog.open(dir, options);
          log.appendBatch(timestamps.map((timestamp) => ({ value: bytes('x'.repeat(20)), timestamp })));
          for (const target of targets) expect(log.offsetForTimestamp(target)).toBe(bruteForce(timestamps, target));
        }
        await using log = await SegmentLog.open(dir, options);
        for (const target of targets) expect(log.offsetForTimestamp(target)).toBe(bruteForce(timestamps, target));
      }),
      { numRuns: 25 },
    );
  });

  it('uses the time index rather than scanning a segment from its start', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const count = 20_000;
    {
      await using log = await SegmentLog.open(dir, { indexIntervalBytes: 4096 });
      log.appendBatch(Array.from({ length: count }, (_, index) => ({ value: bytes('v'.repeat(64)), timestamp: 1_000_000 + index * 10 })));
    }
    await using log = await SegmentLog.open(dir, { indexIntervalBytes: 4096, io: faultyIo(nativeIo, faults) });
    const segmentBytes = log.segments()[0]!.bytes;
    faults.bytesRead = 0;
    expect(log.offsetForTimestamp(1_000_000 + 17_345 * 10)).toBe(17_345);
    expect(log.offsetForTimestamp(1_000_000 + 17_345 * 10 - 5)).toBe(17_345);
    // Two lookups read a few index intervals' worth of bytes, not the segment.
    expect(faults.bytesRead).toBeLessThan(segmentBytes / 20);
    expect(log.offsetForTimestamp(2_000_000_000)).toBeUndefined();
    expect(log.offsetForTimestamp(0)).toBe(0);
  });
});
