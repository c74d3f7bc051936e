import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

describe('read limits', () => {
  it('honours maxRecords and maxBytes and always returns at least one record', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 1000 });
    for (let index = 0; index < 50; index++) log.append({ value: bytes(String(index).padStart(50, '0')), timestamp: index });
    expect(log.read(3, { maxRecords: 4 }).map((record) => record.offset)).toEqual([3, 4, 5, 6]);
    // Each frame is 12 + 26 + 50 = 88 bytes.
    expect(log.read(10, { maxBytes: 88 * 3 }).map((record) => record.offset)).toEqual([10, 11, 12]);
    expect(log.read(10, { maxBytes: 88 * 3 + 87 }).length).toBe(3);
    expect(log.read(10, { maxBytes: 1 }).map((record) => record.offset)).toEqual([10]);
    // Reads run across segment boundaries.
    expect(log.segments().length).toBeGreaterThan(3);
    expect(log.read(7, { maxRecords: 30 }).map((record) => record.offset)).toEqual(Array.from({ length: 30 }, (_, index) => 7 + index));
    expect(log.read(50)).toEqual([]);
    expect(await codeOf(() => log.read(51))).toBe('KEEL_NOT_FOUND');
  });

  it('returns copies that survive later appends, rolls and retention', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 300 });
    log.append({ value: bytes('keep me'), timestamp: 1 });
    const [record] = log.read(0);
    for (let index = 0; index < 30; index++) log.append({ value: bytes('x'.repeat(40)), timestamp: 2 });
    await log.deleteBefore(25);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(new TextDecoder().decode(record!.value)).toBe('keep me');
  });
});
