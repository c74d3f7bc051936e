import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();

test('a file that does not start with a frame is refused and left byte-for-byte unchanged', async () => {
  const dir = tempDir();
  let index = 0;
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      // A file that happens to start with the magic, or is all zeros, is not foreign.
      fc.pre(!(bytes[0] === 0x46 && (bytes.length < 2 || bytes[1] === 0x53)) && bytes.some((byte) => byte !== 0));
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
