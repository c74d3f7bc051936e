import { runSyncSyncCrashPoints } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { FailingIo } from './failing-io.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

const durability = { mode: 'explicit' } as const;

describe('syncSync', () => {
  it('makes every append so far durable before it returns, across a rotation', async () => {
    const io = new FailingIo();
    const store = await PayloadStore.open(tempDir(), { io, durability, segmentBytes: 4096 });
    const refs = Array.from({ length: 20 }, (_, i) => store.append(new Uint8Array(500).fill(i)));
    expect(refs.at(-1)!.segment).toBeGreaterThan(refs[0]!.segment);
    store.syncSync();
    const flushes = store.stats().flushes;
    const datasyncs = io.log.filter((entry) => entry.operation === 'datasync').length;
    store.syncSync();
    expect(store.stats().flushes).toBe(flushes);
    expect(io.log.filter((entry) => entry.operation === 'datasync').length).toBe(datasyncs);
    await store.close();
    expect(await codeOf(() => store.syncSync())).toBe('KEEL_CLOSED');
  });

  it('a failed synchronous datasync poisons the store and rejects the async waiters', async () => {
    const dir = tempDir();
    const io = new FailingIo();
    io.failOnly = new Set(['datasync']);
    const store = await PayloadStore.open(dir, { io, durability });
    const durable = store.append(bytes('durable'));
    store.syncSync();
    store.append(bytes('not durable'));
    const waiting = store.sync();
    io.failAfter = io.operations;
    expect(await codeOf(() => store.syncSync())).toBe('KEEL_IO');
    expect(await codeOf(() => waiting)).toBe('KEEL_IO');
    expect(await codeOf(() => store.append(bytes('refused')))).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.syncSync())).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.close())).toBe('KEEL_POISONED');
    await using reopened = await PayloadStore.open(dir, { durability });
    expect(plain(reopened.read(durable))).toEqual(bytes('durable'));
  });

  it('every payload acknowledged durable survives a crash at every disk operation', async () => {
    const points = await runSyncSyncCrashPoints<PayloadStore>({
      open: (io, dir) => PayloadStore.open(dir, { io, durability, segmentBytes: 1024 }),
      append: (store, payloads) => void store.appendBatch(payloads),
      syncSync: (store) => store.syncSync(),
      sync: (store) => store.sync(),
      read: (store) => [...store.scan()].map((scanned) => plain(scanned.payload)),
      close: (store) => store.close(),
    });
    expect(points).toBeGreaterThan(10);
  });
});
