import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { bytes, expectCode, temporaryDir } from './helpers.js';

describe('lock and close', () => {
  it('a second open of the same directory gets KEEL_LOCKED until the first closes', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    await expectCode(() => WalKv.open(dir), 'KEEL_LOCKED');
    kv.put('a', bytes('1'));
    await kv.close();
    const again = await WalKv.open(dir);
    expect(again.size).toBe(1);
    await again.close();
  });

  it('refuses every call after close with KEEL_CLOSED', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('a', bytes('1'));
    await kv.close();
    await expectCode(() => kv.put('b', bytes('2')), 'KEEL_CLOSED');
    await expectCode(() => kv.delete('a'), 'KEEL_CLOSED');
    await expectCode(() => kv.get('a'), 'KEEL_CLOSED');
    await expectCode(() => kv.size, 'KEEL_CLOSED');
    await expectCode(() => [...kv.keys()], 'KEEL_CLOSED');
    await expectCode(() => kv.sync(), 'KEEL_CLOSED');
    await expectCode(() => kv.checkpoint(), 'KEEL_CLOSED');
    await expectCode(() => kv.compact(), 'KEEL_CLOSED');
    // Like every keel store, stats() still answers after close, and says so.
    expect(kv.stats()).toMatchObject({ closed: true, poisoned: false, keys: 1 });
  });

  it('await using closes the store', async () => {
    const dir = temporaryDir();
    {
      await using kv = await WalKv.open(dir);
      kv.put('a', bytes('1'));
    }
    const again = await WalKv.open(dir);
    expect(again.has('a')).toBe(true);
    await again.close();
  });

  it("close syncs unless durability is 'none'", async () => {
    for (const mode of ['explicit', 'none'] as const) {
      const io = new FaultyIo(Infinity, (operation) => operation === 'datasync');
      const kv = await WalKv.open(temporaryDir(), { io, durability: { mode } });
      const atOpen = io.mutations;
      kv.put('a', bytes('1'));
      await kv.close();
      expect(io.mutations - atOpen).toBe(mode === 'none' ? 0 : 1);
    }
  });

  it('sync resolves with the last seq, and every-write makes writes durable without a call', async () => {
    const kv = await WalKv.open(temporaryDir(), { durability: { mode: 'every-write' } });
    const seq = kv.putBatch([['a', bytes('1')], ['b', bytes('2')]]);
    expect(await kv.sync()).toBe(seq);
    expect(kv.stats().durableSeq).toBe(seq);
    await kv.close();
  });

  it("every-n starts a group commit after every n writes, explicit never on its own", async () => {
    const everyThird = await WalKv.open(temporaryDir(), { durability: { mode: 'every-n', n: 3 } });
    everyThird.put('a', bytes('1'));
    everyThird.putBatch([['b', bytes('2')]]);
    await null;
    expect(everyThird.stats().flushes).toBe(0);
    everyThird.delete('a');
    await null;
    expect(everyThird.stats().flushes).toBe(1);
    expect(await everyThird.sync()).toBe(3);
    await everyThird.close();

    const explicit = await WalKv.open(temporaryDir(), { durability: { mode: 'explicit' } });
    for (let i = 0; i < 10; i++) explicit.put(`k${i}`, bytes('v'));
    await null;
    expect(explicit.stats().flushes).toBe(0);
    expect(explicit.stats().durableSeq).toBe(0);
    await explicit.close();
  });
});
