import { nativeIo } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { SEALED_FILES_OPEN_MAX } from '../src/file-cache.js';
import { SEGMENT_BYTES_MIN } from '../src/format.js';
import { bytes, faultyIo, newFaults, tempDir } from './helpers.js';

describe('file descriptors', () => {
  it('keeps at most a bounded number of sealed segment files open, reopening them on demand', async () => {
    const dir = tempDir();
    const count = SEALED_FILES_OPEN_MAX + 30;
    const faults = newFaults();
    // One record per segment: the smallest segment holds the header and one frame of the
    // smallest record, so each record after a segment's first would pass it and rolls.
    const options = { segmentBytes: SEGMENT_BYTES_MIN, io: faultyIo(nativeIo, faults) };
    {
      await using log = await SegmentLog.open(dir, options);
      log.appendBatch(Array.from({ length: count }, (_, index) => ({ value: bytes(`r${index}`), timestamp: index })));
      expect(log.segments().length).toBe(count);
      // Until a flush makes them durable, the sealed segments keep the files they were written through.
      await log.sync();
      expect(log.read(0, { maxRecords: 1 })).toHaveLength(1);
      expect(faults.openLogFiles).toBeLessThanOrEqual(SEALED_FILES_OPEN_MAX + 1);
    }
    expect(faults.openLogFiles).toBe(0);
    faults.openLogFilesMax = 0;
    await using log = await SegmentLog.open(dir, options);
    for (let round = 0; round < 2; round++) {
      const records = log.read(0, { maxRecords: count });
      expect(records.map((record) => record.offset)).toEqual(Array.from({ length: count }, (_, index) => index));
    }
    expect(log.offsetForTimestamp(3)).toBe(3);
    await log.verify();
    await log.deleteBefore(10);
    expect(log.startOffset).toBe(10);
    // The sealed files the cache keeps, the active segment, and one being opened before the oldest closes.
    expect(faults.openLogFilesMax).toBeLessThanOrEqual(SEALED_FILES_OPEN_MAX + 2);
  });
});
