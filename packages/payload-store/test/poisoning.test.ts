import { describe, expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { FailingIo } from './failing-io.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

describe('poisoning', () => {
  it('a failed datasync rejects sync, then refuses writes with KEEL_POISONED; what was durable survives', async () => {
    const dir = tempDir();
    const io = new FailingIo();
    io.failOnly = new Set(['datasync']);
    const store = await PayloadStore.open(dir, { io, durability: { mode: 'explicit' } });
    const durable = store.append(bytes('durable'));
    await store.sync();
    io.failAfter = io.operations;
    const lost = store.append(bytes('not durable'));
    expect(await codeOf(() => store.sync())).toBe('KEEL_IO');
    expect(await codeOf(() => store.append(bytes('refused')))).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.appendBatch([bytes('refused')]))).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.sync())).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.compact([durable], { seal: true }))).toBe('KEEL_POISONED');
    expect(plain(store.read(lost))).toEqual(bytes('not durable'));
    expect(store.stats().poisoned).toBe(true);
    // close cannot end with the final sync it promises: it releases everything and says so.
    expect(await codeOf(() => store.close())).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.close())).toBe('KEEL_POISONED');

    await using reopened = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    expect(plain(reopened.read(durable))).toEqual(bytes('durable'));
    reopened.append(bytes('accepted again'));
    await reopened.sync();
  });

  it('a failed write poisons at once', async () => {
    const io = new FailingIo();
    io.failOnly = new Set(['write']);
    const dir = tempDir();
    const store = await PayloadStore.open(dir, { io, durability: { mode: 'every-write' } });
    io.failAfter = io.operations;
    expect(await codeOf(() => store.append(bytes('x')))).toBe('KEEL_IO');
    expect(await codeOf(() => store.append(bytes('y')))).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.close())).toBe('KEEL_POISONED');
    // The lock was released all the same.
    await (await PayloadStore.open(dir)).close();
  });

  it('a failed background flush (every-write) poisons the store', async () => {
    const io = new FailingIo();
    io.failOnly = new Set(['datasync']);
    const store = await PayloadStore.open(tempDir(), { io, durability: { mode: 'every-write' } });
    io.failAfter = io.operations;
    store.append(bytes('x'));
    expect(await codeOf(() => store.sync())).not.toBe('no error');
    expect(await codeOf(() => store.append(bytes('y')))).toBe('KEEL_POISONED');
    expect(await codeOf(() => store.close())).toBe('KEEL_POISONED');
  });
});
