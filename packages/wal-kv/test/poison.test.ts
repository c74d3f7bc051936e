import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { bytes, expectCode, temporaryDir, text } from './helpers.js';

describe('a failed sync or write poisons the store', () => {
  it.each(['datasync', 'write'])('after a failed %s: the caller hears it, later writes get KEEL_POISONED, reads still work', async (operation) => {
    const dir = temporaryDir();
    const io = new FaultyIo(Infinity, (name) => name === operation);
    const kv = await WalKv.open(dir, { io });
    kv.put('a', bytes('1'));
    await kv.sync();
    const durable = kv.stats().durableSeq;
    io.failAt = io.mutations + 1;
    kv.put('b', bytes('2'));
    await expectCode(() => kv.sync(), 'KEEL_IO');
    expect(kv.stats().poisoned).toBe(true);
    expect(kv.stats().durableSeq).toBe(durable);
    await expectCode(() => kv.put('c', bytes('3')), 'KEEL_POISONED');
    await expectCode(() => kv.sync(), 'KEEL_POISONED');
    await expectCode(() => kv.checkpoint(), 'KEEL_POISONED');
    expect(text(kv.get('a'))).toBe('1');
    await expectCode(() => kv.close(), 'KEEL_POISONED');

    const reopened = await WalKv.open(dir);
    expect(text(reopened.get('a'))).toBe('1');
    expect(reopened.has('c')).toBe(false);
    await reopened.close();
  });

  it('a sync called after a background snapshot failed never resolves', async () => {
    const dir = temporaryDir();
    const io = new FaultyIo(1, (operation, path) => operation === 'datasync' && path.endsWith('.snap.tmp'));
    const kv = await WalKv.open(dir, { io, checkpointEveryBytes: 1024 });
    let syncAfterFailure: Promise<number> | null = null;
    const failed = new Promise<void>((resolve) => {
      io.onFailure = () => {
        syncAfterFailure = kv.sync();
        resolve();
      };
    });
    kv.put('a', new Uint8Array(2048)); // crosses checkpointEveryBytes: a snapshot starts on its own
    await failed;
    await expectCode(() => syncAfterFailure!, 'KEEL_POISONED');
    await expectCode(() => kv.put('b', bytes('1')), 'KEEL_POISONED');
    await expectCode(() => kv.close(), 'KEEL_POISONED');
    const reopened = await WalKv.open(dir);
    expect(reopened.get('a')).toEqual(Buffer.alloc(2048));
    await reopened.close();
  });
});
