import { copyFileSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '@keel/core';
import { PayloadStore, type PayloadRef } from '../src/index.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

const OPTIONS = { durability: { mode: 'explicit' } } as const;
const name = (segment: number) => `${String(segment).padStart(10, '0')}.seg`;

/** Every file of the directory with its bytes: what "nothing changed" is checked against. */
function contents(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((file) => [file, readFileSync(join(dir, file)).toString('hex')]));
}

async function expectRefusedUntouched(dir: string): Promise<void> {
  const before = contents(dir);
  expect(await codeOf(() => PayloadStore.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
  expect(contents(dir)).toEqual(before);
}

/** Two sealed segments of three payloads each and an active one with two, all durable. */
async function sealedStore(dir: string): Promise<PayloadRef[][]> {
  await using store = await PayloadStore.open(dir, OPTIONS);
  const segments: PayloadRef[][] = [];
  for (const texts of [['a-one', 'a-two', 'a-three'], ['b-one', 'b-two', 'b-three'], ['c-one', 'c-two']]) {
    segments.push(store.appendBatch(texts.map(bytes)));
    if (segments.length < 3) store.seal();
  }
  await store.sync();
  return segments;
}

/** Copies the whole frame of `from` over the frame of `to` (same length): its checksum still verifies. */
function moveFrame(dir: string, from: PayloadRef, to: PayloadRef): void {
  const source = readFileSync(join(dir, name(from.segment)));
  const target = readFileSync(join(dir, name(to.segment)));
  const frameBytes = 8 + 12 + from.length + 4;
  source.copy(target, to.offset, from.offset, from.offset + frameBytes);
  writeFileSync(join(dir, name(to.segment)), target);
}

describe('segment format 2 binds frames, ends and stores', () => {
  it('a whole frame written at another place of a sealed segment, or of another segment, is refused on read and scan', async () => {
    const dir = tempDir();
    const [first, second] = (await sealedStore(dir)) as [PayloadRef[], PayloadRef[]];
    moveFrame(dir, first[0] as PayloadRef, first[1] as PayloadRef);
    moveFrame(dir, first[2] as PayloadRef, second[2] as PayloadRef);
    await using store = await PayloadStore.open(dir, OPTIONS);
    expect(await codeOf(() => store.read(first[1] as PayloadRef))).toBe('KEEL_CORRUPT');
    expect(await codeOf(() => store.read(second[2] as PayloadRef))).toBe('KEEL_CORRUPT');
    expect(new TextDecoder().decode(plain(store.read(first[0] as PayloadRef)))).toBe('a-one');
    expect(await codeOf(() => [...store.scan()])).toBe('KEEL_CORRUPT');
  });

  it('a whole frame of the segment that takes appends, found at another place, refuses the open untouched', async () => {
    const dir = tempDir();
    const [, , active] = (await sealedStore(dir)) as [PayloadRef[], PayloadRef[], PayloadRef[]];
    moveFrame(dir, active[0] as PayloadRef, active[1] as PayloadRef);
    await expectRefusedUntouched(dir);
    expect(await codeOf(() => PayloadStore.open(dir, { ...OPTIONS, recovery: 'salvage' }))).toBe('KEEL_CORRUPT');
  });

  it('a sealed segment that lost its last frame (the end its successor records) refuses the open untouched', async () => {
    const dir = tempDir();
    const [first] = (await sealedStore(dir)) as [PayloadRef[]];
    truncateSync(join(dir, name(1)), (first[2] as PayloadRef).offset);
    await expectRefusedUntouched(dir);
  });

  it('a compaction output shorter than its header records refuses the open untouched', async () => {
    const dir = tempDir();
    const [first, second] = (await sealedStore(dir)) as [PayloadRef[], PayloadRef[]];
    let output: number;
    {
      await using store = await PayloadStore.open(dir, OPTIONS);
      const plan = await store.compact([...first, ...second], { seal: false });
      await plan.commit();
      output = plan.output as number;
    }
    const path = join(dir, name(output));
    truncateSync(path, readFileSync(path).length - (8 + 12 + 7 + 4));
    await expectRefusedUntouched(dir);
  });

  it("a segment copied from another store under a number this store uses is foreign: refused untouched", async () => {
    const dir = tempDir();
    const other = tempDir();
    await sealedStore(dir);
    await sealedStore(other);
    copyFileSync(join(other, name(2)), join(dir, name(2)));
    await expectRefusedUntouched(dir);
  });

  it('a segment of format version 1 is refused with KEEL_CORRUPT, untouched', async () => {
    const dir = tempDir();
    await sealedStore(dir);
    // A version-1 header: magic, version 1, kind, number, order, CRC-32C of those 16 bytes.
    const header = new Uint8Array(20);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x4b50_5347, false);
    view.setUint16(4, 1, true);
    view.setUint16(6, 1, true);
    view.setUint32(8, 4, true);
    view.setUint32(12, 4, true);
    view.setUint32(16, crc32c(header.subarray(0, 16)), true);
    writeFileSync(join(dir, name(4)), header);
    await expectRefusedUntouched(dir);
  });

  it('refs, segment ends and bindings survive reopening, rotation by size and compaction', async () => {
    const dir = tempDir();
    const texts = Array.from({ length: 40 }, (_, index) => `payload ${index} `.repeat(index % 5 + 1));
    let refs: PayloadRef[];
    {
      await using store = await PayloadStore.open(dir, { ...OPTIONS, segmentBytes: 256 });
      refs = texts.map((text) => store.append(bytes(text)));
      const plan = await store.compact(refs.filter((_, index) => index % 2 === 0), { seal: true });
      refs = refs.map((ref, index) => (index % 2 === 0 ? plan.resolve(ref) : ref));
      await plan.commit();
    }
    await using store = await PayloadStore.open(dir, { ...OPTIONS, verify: 'full' });
    expect(refs.filter((_, index) => index % 2 === 0).map((ref) => new TextDecoder().decode(plain(store.read(ref))))).toEqual(texts.filter((_, index) => index % 2 === 0));
    expect(store.recovery.actions).toEqual([]);
  });
});
