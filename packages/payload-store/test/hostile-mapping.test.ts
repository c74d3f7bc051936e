import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, nativeIo, type Io } from '@keel/core';
import { PayloadStore, SEGMENT_HEADER_BYTES, type PayloadRef } from '../src/index.js';
import { MAPPING_HEADER_BYTES, encodeMapping, type MappingRecord } from '../src/mapping-file.js';
import { IDENTITY, IDENTITY_FILE_NAME } from '../src/store-identity.js';
import { bytes, codeOf, plain, tempDir } from './helpers.js';

const OPTIONS = { durability: { mode: 'explicit' }, segmentBytes: 104 } as const;
const name = (segment: number, suffix: string) => `${String(segment).padStart(10, '0')}${suffix}`;

/** Files this large are compared by size and modification time, not read whole. */
const COMPARED_BYTES_MAX = 1024 * 1024;

/** Every file of the directory with its bytes (or, if huge, size and mtime): what "nothing changed" is checked against. */
function contents(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((file) => {
        const stat = statSync(join(dir, file));
        return [file, stat.size > COMPARED_BYTES_MAX ? `${stat.size}@${stat.mtimeMs}` : readFileSync(join(dir, file)).toString('hex')];
      }),
  );
}

const TEXTS = ['first payload, segment one', 'second payload, segment two', 'third payload, segment three'];

/** A store whose payloads fill append segments 1, 2 and 3 (3 active), all acknowledged durable. */
async function threeSegments(dir: string): Promise<PayloadRef[]> {
  await using store = await PayloadStore.open(dir, OPTIONS);
  const refs = TEXTS.map((text) => store.append(bytes(text)));
  await store.sync();
  expect(refs.map((ref) => ref.segment)).toEqual([1, 2, 3]);
  return refs;
}

/** Three segments, then a pending compaction of segments 1 and 2 into 4 that moves the first payload. */
async function compactedFirstPayload(dir: string): Promise<PayloadRef[]> {
  const refs = await threeSegments(dir);
  await using store = await PayloadStore.open(dir, OPTIONS);
  const plan = await store.compact([refs[0] as PayloadRef], { seal: false });
  expect([plan.output, plan.sources]).toEqual([4, [1, 2]]);
  return refs;
}

/** The mapping format before store identities: what the attack used. */
function encodeVersionOne(output: number, sources: readonly number[]): Uint8Array {
  const out = new Uint8Array(20 + 4 * sources.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x4b50_534d, false);
  view.setUint16(4, 1, true);
  view.setUint32(8, output, true);
  view.setUint32(12, sources.length, true);
  view.setUint32(16, 0, true);
  sources.forEach((source, index) => view.setUint32(20 + 4 * index, source, true));
  view.setUint32(out.length - 4, crc32c(out.subarray(0, out.length - 4)), true);
  return out;
}

function storeIdOf(dir: string): Uint8Array {
  const identity = IDENTITY.decode(new Uint8Array(readFileSync(join(dir, IDENTITY_FILE_NAME))));
  if (identity.state !== 'valid') throw new Error('test store has no identity');
  return identity.storeId;
}

/** A CRC-valid mapping of this store (its own id) with whatever contents the test crafts. */
function crafted(dir: string, record: Omit<MappingRecord, 'storeId'>): Uint8Array {
  return encodeMapping({ storeId: storeIdOf(dir), ...record });
}

/** Open refuses, every file is byte for byte as it was, and every acknowledged payload is still there. */
async function expectRefusedUntouched(dir: string, refs: readonly PayloadRef[], texts: readonly string[] = TEXTS, planted: readonly string[] = []): Promise<void> {
  const before = contents(dir);
  expect(await codeOf(() => PayloadStore.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
  expect(contents(dir)).toEqual(before);
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  for (const file of readdirSync(copy)) if (file.endsWith('.mapping') || planted.includes(file)) rmSync(join(copy, file));
  await using store = await PayloadStore.open(copy, OPTIONS);
  expect(refs.map((ref) => new TextDecoder().decode(plain(store.read(ref))))).toEqual(texts);
}

describe('a CRC-valid mapping that this store did not write', () => {
  it('naming an append segment as output and a missing source: refused, no segment deleted', async () => {
    const dir = tempDir();
    const refs = await threeSegments(dir);
    writeFileSync(join(dir, name(2, '.mapping')), encodeVersionOne(2, [1, 999]));
    await expectRefusedUntouched(dir, refs);
    writeFileSync(join(dir, name(2, '.mapping')), crafted(dir, { output: 2, outputOrder: 2, outputBytes: 68, sources: [1], entries: [] }));
    await expectRefusedUntouched(dir, refs);
  });

  it('naming existing sources: never becomes a pending compaction whose commit deletes payloads', async () => {
    const dir = tempDir();
    const refs = await threeSegments(dir);
    writeFileSync(join(dir, name(3, '.mapping')), encodeVersionOne(3, [1, 2]));
    await expectRefusedUntouched(dir, refs);
    writeFileSync(join(dir, name(3, '.mapping')), crafted(dir, { output: 3, outputOrder: 1, outputBytes: 68, sources: [1, 2], entries: [] }));
    await expectRefusedUntouched(dir, refs);
  });

  it('copied from another store together with its output segment: foreign', async () => {
    const other = tempDir();
    await threeSegments(other);
    {
      await using store = await PayloadStore.open(other, OPTIONS);
      const plan = await store.compact([], { seal: false });
      expect(plan.output).toBe(4);
    }
    const dir = tempDir();
    const refs = await threeSegments(dir);
    for (const file of [name(4, '.seg'), name(4, '.mapping')]) writeFileSync(join(dir, file), readFileSync(join(other, file)));
    await expectRefusedUntouched(dir, refs, TEXTS, [name(4, '.seg')]);
  });

  it('beside a real compaction output but with impossible sources or entries: refused', async () => {
    const dir = tempDir();
    const refs = await compactedFirstPayload(dir);
    const record: MappingRecord = { storeId: storeIdOf(dir), output: 4, outputOrder: 1, outputBytes: SEGMENT_HEADER_BYTES + 24 + (refs[0] as PayloadRef).length, sources: [1, 2], entries: [] };
    const mappingPath = join(dir, name(4, '.mapping'));
    const genuine = readFileSync(mappingPath);
    const entry = { from: refs[0] as PayloadRef, to: { segment: 4, offset: SEGMENT_HEADER_BYTES, length: (refs[0] as PayloadRef).length } };
    const variants: MappingRecord[] = [
      // The newest append segment takes appends: it is never a source.
      { ...record, sources: [1, 2, 3], entries: [entry] },
      // An order that is not the output segment's.
      { ...record, outputOrder: 2, sources: [2], entries: [] },
      // Entries that do not tile the output.
      { ...record, entries: [] },
      { ...record, entries: [{ ...entry, to: { ...entry.to, offset: 24 } }] },
      // An entry from a segment that is not a source.
      { ...record, entries: [{ ...entry, from: { ...entry.from, segment: 3 } }] },
    ];
    for (const variant of variants) {
      writeFileSync(mappingPath, encodeMapping(variant));
      await expectRefusedUntouched(dir, refs);
    }
    writeFileSync(mappingPath, genuine);
    await using store = await PayloadStore.open(dir, OPTIONS);
    const pending = store.pendingCompaction();
    expect(pending?.sources).toEqual([1, 2]);
    expect(plain(store.read(pending?.resolve(refs[0] as PayloadRef) as PayloadRef))).toEqual(bytes('first payload, segment one'));
  });

  it('a mapping from before store identities (format version 1) beside a real output: refused with KEEL_CORRUPT', async () => {
    const dir = tempDir();
    const refs = await threeSegments(dir);
    {
      await using store = await PayloadStore.open(dir, OPTIONS);
      await store.compact([], { seal: false });
    }
    writeFileSync(join(dir, name(4, '.mapping')), encodeVersionOne(4, [1, 2]));
    await expectRefusedUntouched(dir, refs);
  });
});

describe('reading a mapping is bounded by what the store can need', () => {
  it('a header announcing more entries than its output can hold is refused after reading the header only', async () => {
    const dir = tempDir();
    const refs = await compactedFirstPayload(dir);
    // A header claiming 60 million entries over a sparse file of exactly the matching size (1.4 GB).
    const mappingPath = join(dir, name(4, '.mapping'));
    const header = new Uint8Array(readFileSync(mappingPath).subarray(0, MAPPING_HEADER_BYTES));
    const view = new DataView(header.buffer);
    const entries = 60_000_000;
    view.setUint32(44, entries, true);
    view.setUint32(48, crc32c(header.subarray(0, 48)), true);
    writeFileSync(mappingPath, header);
    truncateSync(mappingPath, MAPPING_HEADER_BYTES + 4 * 2 + 24 * entries + 4);
    let bytesRead = 0;
    const counting: Io = {
      ...nativeIo,
      open(path, options) {
        const file = nativeIo.open(path, options);
        return new Proxy(file, {
          get(target, property) {
            if (property === 'readSync') {
              return (into: Uint8Array, position: number) => {
                const read = target.readSync(into, position);
                bytesRead += read;
                return read;
              };
            }
            const value = Reflect.get(target, property) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    };
    const before = contents(dir);
    expect(await codeOf(() => PayloadStore.open(dir, { ...OPTIONS, io: counting }))).toBe('KEEL_CORRUPT');
    expect(bytesRead).toBeLessThan(64 * 1024);
    expect(contents(dir)).toEqual(before);
  });

  it('entry offsets past 2^53 − 1 are refused, never rounded', async () => {
    const dir = tempDir();
    const refs = await compactedFirstPayload(dir);
    const mappingPath = join(dir, name(4, '.mapping'));
    const patched = new Uint8Array(readFileSync(mappingPath));
    const view = new DataView(patched.buffer);
    // The one entry follows the header and two sources; its old offset is the u64 at +4.
    view.setBigUint64(MAPPING_HEADER_BYTES + 8 + 4, 2n ** 53n + 20n, true);
    view.setUint32(patched.length - 4, crc32c(patched.subarray(0, patched.length - 4)), true);
    writeFileSync(mappingPath, patched);
    await expectRefusedUntouched(dir, refs);
  });
});
