import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef } from '../src/index.js';
import { bytes, plain, tempDir } from './helpers.js';

describe('round trip', () => {
  it('reads back what append and appendBatch wrote, across rotation and seal', async () => {
    await using store = await PayloadStore.open(tempDir(), { segmentBytes: 256, durability: { mode: 'explicit' } });
    const written = new Map<string, Uint8Array>();
    const one = bytes('hello world');
    written.set(PayloadRef.key(store.append(one)), one);
    const batch = Array.from({ length: 40 }, (_, index) => bytes(`payload ${index} `.repeat(index % 7)));
    store.appendBatch(batch).forEach((ref, index) => written.set(PayloadRef.key(ref), batch[index] as Uint8Array));
    const empty = new Uint8Array(0);
    written.set(PayloadRef.key(store.append(empty)), empty);
    store.seal();
    const large = new Uint8Array(1000).fill(7);
    written.set(PayloadRef.key(store.append(large)), large);
    await store.sync();
    expect(store.segments().length).toBeGreaterThan(3);
    for (const [key, expected] of written) {
      const [segment, offset, length] = key.split(':').map(Number) as [number, number, number];
      expect(plain(store.read({ segment, offset, length }))).toEqual(expected);
    }
    expect(store.stats().appendedPayloads).toBe(written.size);
    expect(store.diskUsage()).toBeGreaterThan(1000);
  });

  it('serves sealed segments from a mapping and the active one from a positional read', async () => {
    await using store = await PayloadStore.open(tempDir(), { durability: { mode: 'every-write' } });
    const sealedRef = store.append(bytes('sealed'));
    store.seal();
    const activeRef = store.append(bytes('active'));
    expect(store.segments().map((info) => info.state)).toEqual(['sealed', 'active']);
    expect(plain(store.read(sealedRef))).toEqual(bytes('sealed'));
    expect(plain(store.read(activeRef))).toEqual(bytes('active'));
    // Two reads of a sealed payload share one mapping.
    expect(store.read(sealedRef).buffer).toBe(store.read(sealedRef).buffer);
    expect(store.read(sealedRef).buffer).not.toBe(store.read(activeRef).buffer);
    await store.sync();
  });
});
