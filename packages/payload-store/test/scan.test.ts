import { openSync, writeSync, closeSync, readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef } from '../src/index.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

const OPTIONS = { segmentBytes: 120, durability: { mode: 'explicit' } } as const;

function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, position);
  one[0] = (one[0] as number) ^ 0x01;
  writeSync(fd, one, 0, 1, position);
  closeSync(fd);
}

const texts = (store: PayloadStore) => [...store.scan()].map(({ payload }) => new TextDecoder().decode(payload));

describe('scan', () => {
  it('yields every payload in append order across rotations, compactions and reopen', async () => {
    const dir = tempDir();
    const written: string[] = [];
    {
      await using store = await PayloadStore.open(dir, OPTIONS);
      const refs: PayloadRef[] = [];
      for (let index = 0; index < 20; index++) {
        written.push(`payload ${index}`);
        refs.push(store.append(bytes(`payload ${index}`)));
      }
      expect(texts(store)).toEqual(written);
      const handle = store.seal();
      written.push('after seal');
      store.append(bytes('after seal'));
      // Everything live: the compaction output takes the place of its sources in the order.
      const plan = await store.compact(refs, { seal: handle });
      expect(texts(store)).toEqual(written);
      await plan.commit();
      expect(texts(store)).toEqual(written);
      written.push('last');
      store.append(bytes('last'));
      // A second compaction over the first one's output and newer segments.
      const second = await store.compact(
        [...store.scan()].map(({ ref }) => ref),
        { seal: true },
      );
      await second.commit();
      expect(texts(store)).toEqual(written);
      for (const { ref, payload } of store.scan()) expect(plain(store.read(ref))).toEqual(plain(payload));
    }
    await using store = await PayloadStore.open(dir, OPTIONS);
    expect(texts(store)).toEqual(written);
  });

  it('drops what compaction was not told to keep, and shows the old segments while a compaction is pending', async () => {
    await using store = await PayloadStore.open(tempDir(), OPTIONS);
    const refs = ['a', 'b', 'c', 'd'].map((text) => store.append(bytes(text)));
    const plan = await store.compact([refs[0], refs[2]] as PayloadRef[], { seal: true });
    expect(texts(store)).toEqual(['a', 'b', 'c', 'd']);
    await plan.commit();
    expect(texts(store)).toEqual(['a', 'c']);
  });

  it("throws KEEL_CORRUPT at damage; verify: 'full' refuses to open, the default opens and read reports it", async () => {
    const dir = tempDir();
    let damaged: PayloadRef;
    let path: string;
    {
      await using store = await PayloadStore.open(dir, OPTIONS);
      damaged = store.append(bytes('will be damaged'));
      store.seal();
      store.append(bytes('fine'));
      path = store.segments()[0]?.path as string;
    }
    flipByte(path, damaged.offset + 10);
    expect(await codeOf(() => PayloadStore.open(dir, { ...OPTIONS, verify: 'full' }))).toBe('KEEL_CORRUPT');
    await using store = await PayloadStore.open(dir, OPTIONS);
    expect(await codeOf(() => [...store.scan()])).toBe('KEEL_CORRUPT');
    expect(await codeOf(() => store.read(damaged))).toBe('KEEL_CORRUPT');
  });

  it("verify: 'full' opens a clean store", async () => {
    const dir = tempDir();
    {
      await using store = await PayloadStore.open(dir, OPTIONS);
      for (let index = 0; index < 10; index++) store.append(bytes(`payload ${index}`));
    }
    await using store = await PayloadStore.open(dir, { ...OPTIONS, verify: 'full' });
    expect(texts(store)).toHaveLength(10);
  });
});
