import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, flipByte, logPath, snapshotNames, temporaryDir, text } from './helpers.js';

function kinds(kv: WalKv): string[] {
  return kv.recovery.actions.map((action) => action.kind);
}

describe('snapshots that do not check out', () => {
  it('ignores a snapshot with a flipped byte', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    for (let i = 0; i < 20; i++) kv.put(`key-${i}`, bytes(`value-${i}`));
    kv.delete('key-3');
    await kv.checkpoint();
    kv.put('after', bytes('snapshot'));
    await kv.close();
    const [name] = snapshotNames(dir);
    const path = join(dir, name!);
    flipByte(path, Math.floor(statSync(path).size / 2));

    const reopened = await WalKv.open(dir);
    expect(kinds(reopened)).toContain('ignored-snapshot');
    expect(kinds(reopened)).not.toContain('loaded-snapshot');
    expect(reopened.size).toBe(20);
    expect(reopened.has('key-3')).toBe(false);
    expect(text(reopened.get('after'))).toBe('snapshot');
    await reopened.close();
  });

  it('refuses a log that lost bytes an intact snapshot proves were durable; salvage keeps the prefix', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('a', bytes('1'));
    const cleanEnd = kv.stats().logBytes;
    kv.put('b', bytes('2'));
    kv.delete('a');
    await kv.checkpoint();
    await kv.close();
    // The log loses its last records at a record boundary: no torn tail to see, but the
    // snapshot was written only after those records were durable.
    truncateSync(logPath(dir), cleanEnd);
    let caught: { code?: string; offset?: number } | null = null;
    try {
      await WalKv.open(dir);
    } catch (error) {
      caught = error as { code?: string; offset?: number };
    }
    expect(caught?.code).toBe('KEEL_CORRUPT');
    expect(caught?.offset).toBe(cleanEnd);
    expect(snapshotNames(dir)).toHaveLength(1);

    const salvaged = await WalKv.open(dir, { recovery: 'salvage' });
    expect(kinds(salvaged)).toEqual(expect.arrayContaining(['ignored-snapshot', 'removed-file']));
    expect([...salvaged.keys()]).toEqual(['a']);
    expect(text(salvaged.get('a'))).toBe('1');
    salvaged.put('c', bytes('3'));
    await salvaged.close();
    const again = await WalKv.open(dir);
    expect([...again.keys()]).toEqual(['a', 'c']);
    expect(kinds(again)).not.toContain('ignored-snapshot');
    await again.close();
  });

  it('uses the older snapshot when the newest is damaged', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('a', bytes('1'));
    await kv.checkpoint();
    kv.put('b', bytes('2'));
    await kv.checkpoint();
    kv.put('c', bytes('3'));
    await kv.checkpoint();
    await kv.close();
    const names = snapshotNames(dir).sort((x, y) => Number(/\d+/.exec(y)![0]) - Number(/\d+/.exec(x)![0]));
    expect(names).toHaveLength(2);
    flipByte(join(dir, names[0]!), 20);
    const reopened = await WalKv.open(dir);
    expect(kinds(reopened)).toEqual(expect.arrayContaining(['ignored-snapshot', 'loaded-snapshot']));
    expect([...reopened.keys()]).toEqual(['a', 'b', 'c']);
    await reopened.close();
  });
});
