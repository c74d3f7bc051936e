import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, expectCode, flipByte, logPath, temporaryDir, text } from './helpers.js';

function offsetOf(path: string, needle: string): number {
  const offset = readFileSync(path).indexOf(needle);
  if (offset < 0) throw new Error(`${needle} not found in ${path}`);
  return offset;
}

describe('reads verify the value CRC', () => {
  it('get throws KEEL_CORRUPT for a value damaged on disk while the store is open', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('k', bytes('a value that will rot'));
    kv.put('other', bytes('fine'));
    await kv.sync();
    flipByte(logPath(dir), offsetOf(logPath(dir), 'will rot') + 2);
    await expectCode(() => kv.get('k'), 'KEEL_CORRUPT');
    await expectCode(() => [...kv.entries()], 'KEEL_CORRUPT');
    expect(text(kv.get('other'))).toBe('fine');
    // Compaction refuses to launder the damaged value into a new log.
    await expectCode(() => kv.compact(), 'KEEL_CORRUPT');
    expect(kv.stats().generation).toBe(1);
    await kv.close();
  });

  it('get throws KEEL_CORRUPT for a value behind a snapshot, which replay never re-reads', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('k', bytes('snapshotted value'));
    kv.put('last', bytes('x'));
    await kv.checkpoint();
    await kv.close();
    const damagedAt = offsetOf(logPath(dir), 'snapshotted') + 3;
    flipByte(logPath(dir), damagedAt);
    const reopened = await WalKv.open(dir);
    expect(reopened.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
    let caught: { code?: string; offset?: number } | null = null;
    try {
      reopened.get('k');
    } catch (error) {
      caught = error as { code?: string; offset?: number };
    }
    expect(caught?.code).toBe('KEEL_CORRUPT');
    expect(caught?.offset).toBeLessThan(damagedAt);
    expect(text(reopened.get('last'))).toBe('x');
    await reopened.close();
  });
});

describe('reads through mapped sealed segments', () => {
  it('verify the CRC too, and values never alias the mapping', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { checkpointEveryBytes: Infinity });
    const big = new Uint8Array(100 * 1024).fill(0x61);
    for (let i = 0; i < 100; i++) kv.put(`big-${i}`, big);
    kv.put('small', bytes('mapped and rotting'));
    for (let i = 100; i < 200; i++) kv.put(`big-${i}`, big);
    await kv.sync();
    expect(kv.stats().logBytes).toBeGreaterThan(16 * 1024 * 1024);
    const value = kv.get('small') as Uint8Array;
    value[0] = 0x7a; // a copy: writing to it must neither crash nor change the store
    expect(text(kv.get('small'))).toBe('mapped and rotting');
    flipByte(logPath(dir), offsetOf(logPath(dir), 'and rotting'));
    await expectCode(() => kv.get('small'), 'KEEL_CORRUPT');
    expect((kv.get('big-5') as Uint8Array).length).toBe(big.length);
    await kv.close();
  });
});
