import { existsSync, readFileSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, codeOf, filesEndingWith, tempDir, text } from './helpers.js';

async function logWithRecords(dir: string, count: number): Promise<void> {
  await using log = await SegmentLog.open(dir);
  for (let index = 0; index < count; index++) log.append({ value: bytes(`record-${index}`), timestamp: index });
  await log.sync();
}

describe('torn tail recovery', () => {
  it('saves and cuts a torn last record, then continues from the last valid offset', async () => {
    const dir = tempDir();
    await logWithRecords(dir, 10);
    const [segment] = filesEndingWith(dir, '.log');
    const size = statSync(segment!).size;
    truncateSync(segment!, size - 7);
    const damaged = readFileSync(segment!);
    {
      await using log = await SegmentLog.open(dir);
      expect(log.recovery.tailState).toBe('truncated-payload');
      expect(log.recovery.discardedBytes).toBeGreaterThan(0);
      expect(existsSync(log.recovery.savedTailPath!)).toBe(true);
      expect(readFileSync(log.recovery.savedTailPath!).length).toBe(log.recovery.discardedBytes);
      expect(readFileSync(log.recovery.savedTailPath!)).toEqual(damaged.subarray(damaged.length - log.recovery.discardedBytes));
      expect(log.nextOffset).toBe(9);
      expect(log.append({ value: bytes('after'), timestamp: 99 })).toBe(9);
      await log.sync();
    }
    await using log = await SegmentLog.open(dir);
    expect(log.recovery.tailState).toBe('clean-end');
    expect(log.read(0).map((record) => text(record.value))).toEqual([...Array.from({ length: 9 }, (_, index) => `record-${index}`), 'after']);
  });

  it('cuts a zero-filled tail (preallocated space)', async () => {
    const dir = tempDir();
    await logWithRecords(dir, 5);
    appendFileSync(filesEndingWith(dir, '.log')[0]!, Buffer.alloc(4096));
    await using log = await SegmentLog.open(dir);
    expect(log.recovery.tailState).not.toBe('clean-end');
    expect(log.nextOffset).toBe(5);
  });

  it("refuses a torn tail under 'strict' and changes nothing", async () => {
    const dir = tempDir();
    await logWithRecords(dir, 5);
    const segment = filesEndingWith(dir, '.log')[0]!;
    truncateSync(segment, statSync(segment).size - 3);
    const before = readFileSync(segment);
    expect(await codeOf(() => SegmentLog.open(dir, { recovery: 'strict' }))).toBe('KEEL_CORRUPT');
    expect(readFileSync(segment)).toEqual(before);
  });

  it('restores a segment whose header was torn while it was being created', async () => {
    const dir = tempDir();
    {
      await using log = await SegmentLog.open(dir, { segmentBytes: 200 });
      for (let index = 0; index < 6; index++) log.append({ value: bytes('y'.repeat(40)), timestamp: index });
    }
    const last = filesEndingWith(dir, '.log').at(-1)!;
    const baseOffset = Number(last.slice(-24, -4));
    writeFileSync(last, readFileSync(last).subarray(0, 10));
    await using log = await SegmentLog.open(dir, { segmentBytes: 200 });
    expect(log.recovery.actions.map((action) => action.kind)).toContain('truncated-tail');
    expect(log.nextOffset).toBe(baseOffset);
    expect(log.append({ value: bytes('z'), timestamp: 9 })).toBe(baseOffset);
  });
});
