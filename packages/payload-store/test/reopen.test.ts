import { describe, expect, it } from 'vitest';
import { PayloadStore, type PayloadRef } from '../src/index.js';
import { bytes, plain, tempDir } from './helpers.js';

describe('refs survive reopen', () => {
  it('resolves every ref after close and open, and keeps appending to the newest segment', async () => {
    const dir = tempDir();
    const written: Array<[PayloadRef, Uint8Array]> = [];
    {
      await using store = await PayloadStore.open(dir, { segmentBytes: 200, durability: { mode: 'explicit' } });
      for (let index = 0; index < 30; index++) {
        const payload = bytes(`record ${index}`);
        written.push([store.append(payload), payload]);
      }
    }
    await using store = await PayloadStore.open(dir, { segmentBytes: 200, durability: { mode: 'explicit' } });
    expect(store.recovery.tailState).toBe('clean-end');
    expect(store.recovery.actions).toEqual([]);
    for (const [ref, payload] of written) expect(plain(store.read(ref))).toEqual(payload);
    const before = store.segments();
    const later = store.append(bytes('after reopen'));
    expect(later.segment).toBe(before[before.length - 1]?.segment);
    expect(plain(store.read(later))).toEqual(bytes('after reopen'));
  });

  it('creates the directory and a first segment when nothing is there', async () => {
    const dir = `${tempDir()}/nested/store`;
    await using store = await PayloadStore.open(dir);
    // The store's identity file, then its first segment.
    expect(store.recovery.actions.map((action) => action.kind)).toEqual(['created', 'created']);
    expect(store.segments()).toHaveLength(1);
  });
});
