import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, temporaryDir, text } from './helpers.js';

describe('basic operations', () => {
  it('puts, gets, deletes and survives a reopen', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    expect(kv.recovery.actions.map((action) => action.kind)).toContain('created');
    expect(kv.put('a', bytes('1'))).toBe(1);
    expect(kv.put(bytes('b'), bytes('2'))).toBe(2);
    expect(kv.delete('a')).toBe(3);
    expect(kv.putBatch([['c', bytes('3')], ['d', bytes('4')]])).toBe(5);
    expect(kv.batch([{ type: 'del', key: 'c' }, { type: 'put', key: 'e', value: bytes('5') }])).toBe(7);
    expect(text(kv.get('b'))).toBe('2');
    expect(kv.get('a')).toBeUndefined();
    expect(kv.has('d')).toBe(true);
    expect(kv.size).toBe(3);
    expect([...kv.keys()]).toEqual(['b', 'd', 'e']);
    expect(await kv.sync()).toBe(7);
    await kv.close();
    await kv.close();

    const again = await WalKv.open(dir);
    expect([...again.entries()].map(([key, value]) => [key, text(value)])).toEqual([['b', '2'], ['d', '4'], ['e', '5']]);
    expect(again.stats().lastSeq).toBe(7);
    expect(again.put('f', bytes('6'))).toBe(8);
    await again.checkpoint();
    await again.compact();
    expect(again.stats().generation).toBe(2);
    expect(text(again.get('f'))).toBe('6');
    await again.close();

    const third = await WalKv.open(dir);
    expect(third.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
    expect([...third.keys({ prefix: 'e' })]).toEqual(['e']);
    expect(third.stats().lastSeq).toBe(8);
    await third.close();
  });
});

describe('stats().indexBytes', () => {
  it('says what the index has allocated, and grows with the keys', async () => {
    const kv = await WalKv.open(temporaryDir());
    const empty = kv.stats().indexBytes;
    expect(empty).toBeGreaterThan(0);
    kv.putBatch(Array.from({ length: 10_000 }, (_, i) => [`key${i}`, bytes('v')] as const));
    // A 40-byte entry per key at least.
    expect(kv.stats().indexBytes).toBeGreaterThanOrEqual(empty + 10_000 * 40);
    await kv.close();
  });
});
