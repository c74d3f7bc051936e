import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, expectCode, flipByte, logPath, temporaryDir } from './helpers.js';

async function damagedStore(): Promise<{ dir: string; damagedRecord: number }> {
  const dir = temporaryDir();
  const kv = await WalKv.open(dir);
  const ends: number[] = [];
  for (let i = 0; i < 10; i++) {
    kv.put(`key-${i}`, bytes(`value-${i}`));
    ends.push(kv.stats().logBytes);
  }
  await kv.close();
  // Damage the fourth record: valid records follow it.
  flipByte(logPath(dir), ends[2]! + 20);
  return { dir, damagedRecord: ends[2]! };
}

describe('corruption followed by valid records', () => {
  it('is refused with KEEL_CORRUPT and its offset, and nothing is changed', async () => {
    const { dir, damagedRecord } = await damagedStore();
    const before = readFileSync(logPath(dir));
    let caught: { code?: string; offset?: number } | null = null;
    try {
      await WalKv.open(dir);
    } catch (error) {
      caught = error as { code?: string; offset?: number };
    }
    expect(caught?.code).toBe('KEEL_CORRUPT');
    expect(caught?.offset).toBe(damagedRecord);
    expect(readFileSync(logPath(dir)).equals(before)).toBe(true);
    await expectCode(() => WalKv.open(dir, { recovery: 'strict' }), 'KEEL_CORRUPT');
    // The lock was released by the failed opens.
    await expectCode(() => WalKv.open(dir), 'KEEL_CORRUPT');
  });

  it("is cut at the damage only with recovery 'salvage', never skipped over", async () => {
    const { dir, damagedRecord } = await damagedStore();
    const kv = await WalKv.open(dir, { recovery: 'salvage' });
    expect(kv.recovery.validBytes).toBe(damagedRecord);
    expect(kv.recovery.discardedBytes).toBeGreaterThan(0);
    expect(existsSync(kv.recovery.savedTailPath!)).toBe(true);
    expect([...kv.keys()]).toEqual(['key-0', 'key-1', 'key-2']);
    kv.put('new', bytes('write'));
    await kv.close();
    const again = await WalKv.open(dir);
    expect(again.recovery.tailState).toBe('clean-end');
    expect(again.size).toBe(4);
    await again.close();
  });

  it("a torn tail is refused under 'strict' and cut by default", async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('a', bytes('1'));
    kv.put('b', bytes('2'));
    await kv.close();
    const path = logPath(dir);
    flipByte(path, readFileSync(path).length - 2);
    await expectCode(() => WalKv.open(dir, { recovery: 'strict' }), 'KEEL_CORRUPT');
    const reopened = await WalKv.open(dir);
    expect(reopened.recovery.tailState).toBe('checksum-mismatch');
    expect([...reopened.keys()]).toEqual(['a']);
    await reopened.close();
  });

  it('refuses a log file that is not ours and leaves it untouched', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    await kv.close();
    const path = logPath(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is somebody else\'s file, not a wal-kv log');
    await expectCode(() => WalKv.open(dir), 'KEEL_CORRUPT');
    expect(readFileSync(path, 'utf8')).toBe('this is somebody else\'s file, not a wal-kv log');
  });

  it('damage to a compacted log is refused, not cut away as a torn tail', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    for (let i = 0; i < 3; i++) kv.put(`key-${i}`, bytes(`value-${i}`));
    await kv.compact();
    await kv.close();
    // The compacted log holds one record with all three keys, and nothing after it.
    const path = logPath(dir);
    flipByte(path, readFileSync(path).length - 6);
    await expectCode(() => WalKv.open(dir), 'KEEL_CORRUPT');
    const salvaged = await WalKv.open(dir, { recovery: 'salvage' });
    expect(salvaged.size).toBe(0);
    expect(salvaged.recovery.discardedBytes).toBeGreaterThan(0);
    await salvaged.close();
  });
});
