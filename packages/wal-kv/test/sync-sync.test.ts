import { payloadId, runSyncSyncCrashPoints } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { bytes, expectCode, temporaryDir, text } from './helpers.js';

const durability = { mode: 'explicit' } as const;

describe('syncSync', () => {
  it('makes every write so far durable before it returns', async () => {
    const io = new FaultyIo();
    const kv = await WalKv.open(temporaryDir(), { io, durability });
    kv.put('a', bytes('1'));
    kv.putBatch([['b', bytes('2')], ['c', bytes('3')]]);
    expect(kv.syncSync()).toBe(3);
    expect(kv.stats().durableSeq).toBe(3);
    const mutations = io.mutations;
    expect(kv.syncSync()).toBe(3);
    expect(io.mutations).toBe(mutations);
    await kv.close();
    await expectCode(() => kv.syncSync(), 'KEEL_CLOSED');
  });

  it('a failed synchronous datasync poisons the store and rejects the async waiters', async () => {
    const dir = temporaryDir();
    const io = new FaultyIo(Infinity, (operation) => operation === 'datasync');
    const kv = await WalKv.open(dir, { io, durability });
    kv.put('a', bytes('1'));
    kv.syncSync();
    kv.put('b', bytes('2'));
    const waiting = kv.sync();
    io.failAt = io.mutations + 1;
    await expectCode(() => kv.syncSync(), 'KEEL_IO');
    await expectCode(() => waiting, 'KEEL_IO');
    expect(kv.stats().poisoned).toBe(true);
    expect(kv.stats().durableSeq).toBe(1);
    await expectCode(() => kv.put('c', bytes('3')), 'KEEL_POISONED');
    await expectCode(() => kv.syncSync(), 'KEEL_POISONED');
    await expectCode(() => kv.close(), 'KEEL_POISONED');
    const reopened = await WalKv.open(dir);
    expect(text(reopened.get('a'))).toBe('1');
    await reopened.close();
  });

  it('every put acknowledged durable survives a crash at every disk operation', async () => {
    const keyOf = (payload: Uint8Array): string => String(payloadId(payload)).padStart(8, '0');
    const points = await runSyncSyncCrashPoints<WalKv<Uint8Array>>({
      open: (io, dir) => WalKv.open<Uint8Array>(dir, { io, durability, valueEncoding: 'binary' }),
      append: (kv, payloads) => void kv.putBatch(payloads.map((payload) => [keyOf(payload), payload] as const)),
      syncSync: (kv) => void kv.syncSync(),
      sync: (kv) => kv.sync(),
      read: (kv) => [...kv.entries()].map(([, value]) => value),
      close: (kv) => kv.close(),
    });
    expect(points).toBeGreaterThan(10);
  });
});
