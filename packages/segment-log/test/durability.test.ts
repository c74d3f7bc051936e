import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, tempDir } from './helpers.js';

describe('durability modes', () => {
  it("'every-write': writes made in one turn share one fdatasync", async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { durability: { mode: 'every-write' } });
    log.append({ value: bytes('a'), timestamp: 1 });
    log.appendBatch([{ value: bytes('b'), timestamp: 2 }, { value: bytes('c'), timestamp: 3 }]);
    log.append({ value: bytes('d'), timestamp: 4 });
    // The group commit the writes requested is the one this sync waits for.
    expect(await log.sync()).toBe(4);
    expect(log.stats().flushes).toBe(1);
    expect(log.durableOffset).toBe(4);
  });

  it("'explicit': nothing is synced until asked, and close syncs", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { durability: { mode: 'explicit' } });
    log.append({ value: bytes('a'), timestamp: 1 });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log.stats().flushes).toBe(0);
    expect(log.durableOffset).toBe(0);
    await log.close();
    expect(log.stats().flushes).toBe(1);
    expect(log.stats().closed).toBe(true);
  });

  it("'none': close does not sync", async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { durability: { mode: 'none' } });
    log.append({ value: bytes('a'), timestamp: 1 });
    await log.close();
    expect(log.stats().flushes).toBe(0);
    await using again = await SegmentLog.open(dir);
    expect(again.nextOffset).toBe(1);
    expect(again.durableOffset).toBe(1);
  });
});
