import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

describe('compaction', () => {
  it('copies values larger than one compaction record, and many small ones, intact', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<Uint8Array>(dir, { checkpointEveryBytes: Infinity });
    const large = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = i % 251;
    kv.put('large', large);
    for (let i = 0; i < 20_000; i++) kv.put(`small-${i % 5000}`, new Uint8Array([i % 256, (i >> 8) % 256]));
    kv.put('after', large.subarray(0, 1000));
    await kv.compact();
    expect(Buffer.from(large).equals(kv.get('large')!)).toBe(true);
    expect(kv.size).toBe(5002);
    await kv.close();
    const reopened = await WalKv.open<Uint8Array>(dir);
    expect(reopened.stats().generation).toBe(2);
    expect(Buffer.from(large).equals(reopened.get('large')!)).toBe(true);
    expect(reopened.get('after')).toEqual(Buffer.from(large.subarray(0, 1000)));
    for (let k = 0; k < 5000; k += 499) {
      const last = 15_000 + k;
      expect(reopened.get(`small-${k}`)).toEqual(Buffer.from([last % 256, (last >> 8) % 256]));
    }
    await reopened.close();
  });
});
