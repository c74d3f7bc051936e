import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, SEGMENT_HEADER_BYTES, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, position);
  one[0] = (one[0] as number) ^ 0x40;
  writeSync(fd, one, 0, 1, position);
  closeSync(fd);
}

describe('corruption is detected, never returned', () => {
  for (const where of ['sealed', 'active'] as const) {
    it(`a flipped payload byte in a ${where} segment makes read throw KEEL_CORRUPT`, async () => {
      const dir = tempDir();
      await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
      const ref = store.append(bytes('precious bytes'));
      const neighbour = store.append(bytes('neighbour'));
      if (where === 'sealed') store.seal();
      await store.sync();
      const path = store.segments().find((info) => info.segment === ref.segment)?.path as string;
      flipByte(path, ref.offset + 8 + 3);
      expect(await codeOf(() => store.read(ref))).toBe('KEEL_CORRUPT');
      expect(store.read(neighbour)).toHaveLength(9);
    });
  }

  it('a ref whose length or offset does not match a frame is KEEL_CORRUPT, one past the end KEEL_BAD_ARGUMENT', async () => {
    await using store = await PayloadStore.open(tempDir(), { durability: { mode: 'explicit' } });
    const ref = store.append(bytes('twelve bytes'));
    store.append(bytes('more'));
    const wrongLength: PayloadRef = { ...ref, length: ref.length - 1 };
    const wrongOffset: PayloadRef = { ...ref, offset: ref.offset + 4 };
    expect(await codeOf(() => store.read(wrongLength))).toBe('KEEL_CORRUPT');
    expect(await codeOf(() => store.read(wrongOffset))).toBe('KEEL_CORRUPT');
    expect(await codeOf(() => store.read({ ...ref, offset: 10_000 }))).toBe('KEEL_BAD_ARGUMENT');
    store.seal();
    expect(await codeOf(() => store.read(wrongLength))).toBe('KEEL_CORRUPT');
    expect(await codeOf(() => store.read({ ...ref, offset: 10_000 }))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => store.read({ ...ref, offset: SEGMENT_HEADER_BYTES - 1 }))).toBe('KEEL_BAD_ARGUMENT');
  });

  it('a ref into a segment that was never written is KEEL_NOT_FOUND', async () => {
    await using store = await PayloadStore.open(tempDir());
    expect(await codeOf(() => store.read({ segment: 999, offset: SEGMENT_HEADER_BYTES, length: 1 }))).toBe('KEEL_NOT_FOUND');
  });
});
