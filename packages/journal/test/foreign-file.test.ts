import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const MAGIC = [0x46, 0x53, 0x59, 0x01];
const startsLikeTornMagic = (bytes: Uint8Array): boolean => [...bytes.subarray(0, 4)].every((byte, index) => byte === 0 || byte === MAGIC[index]);

test('a file that does not start with a frame is refused and left byte-for-byte unchanged', async () => {
  const dir = tempDir();
  let index = 0;
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      // A start that could be a torn magic (each byte zero or the magic's) is a torn journal, not foreign.
      fc.pre(!startsLikeTornMagic(bytes));
      const path = join(dir, `foreign-${index++}`);
      writeFileSync(path, bytes);
      await expect(Journal.open(path, { durability: { mode: 'explicit' } })).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: 0 });
      expect(readFileSync(path).equals(Buffer.from(bytes))).toBe(true);
    }),
    { numRuns: 60 },
  );
});

test('a text file is refused under every recovery policy, salvage included', async () => {
  const path = join(tempDir(), 'notes.txt');
  writeFileSync(path, 'these are my notes, not a journal\n');
  for (const recovery of ['truncate-tail', 'strict', 'salvage'] as const) {
    await expect(Journal.open(path, { durability: { mode: 'explicit' }, recovery })).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
  }
  expect(readFileSync(path, 'utf8')).toBe('these are my notes, not a journal\n');
});

test('a new journal whose first write was torn (a hole at offset 0) opens empty, its bytes saved', async () => {
  const dir = tempDir();
  const source = join(dir, 'source');
  const journal = await Journal.open(source, { durability: { mode: 'explicit' } });
  journal.appendBatch([new Uint8Array(30).fill(5), new Uint8Array(30).fill(6)]);
  await journal.close();
  const whole = readFileSync(source);
  for (const holes of [[0], [0, 1, 2, 3], [1], [2, 3, 4, 5, 6, 7], [0, 12, 13, 50]]) {
    const path = join(dir, `torn-${holes.join('-')}`);
    const torn = Buffer.from(whole);
    for (const hole of holes) torn[hole] = 0;
    // Cut inside the second frame too, so no whole frame survives the tear.
    writeFileSync(path, torn.subarray(0, 50));
    await using reopened = await Journal.open(path, { durability: { mode: 'explicit' } });
    expect(reopened.recovery).toMatchObject({ validBytes: 0, records: 0, discardedBytes: 50 });
    expect(readFileSync(reopened.recovery.savedTailPath!).equals(torn.subarray(0, 50))).toBe(true);
    expect(reopened.nextLsn).toBe(0);
  }
});
