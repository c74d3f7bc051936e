import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { IDENTITY, IDENTITY_FILE_NAME } from '../src/store-identity.js';
import { bytes, codeOf, tempDir } from './helpers.js';

const OPTIONS = { durability: { mode: 'explicit' } } as const;
const TORN_IDENTITIES = [new Uint8Array(0), Uint8Array.of(0x4b, 0x50, 0, 0, 0, 0, 0, 0), Uint8Array.of(0x4b, 0, 0x53, 0x49, 20, 0, 0, 0, 1, 0, 0, 0, 7, 7)];

describe('the store identity file', () => {
  it('is created with the store and kept across opens', async () => {
    const dir = tempDir();
    await (await PayloadStore.open(dir, OPTIONS)).close();
    const first = readFileSync(join(dir, IDENTITY_FILE_NAME));
    expect(IDENTITY.decode(new Uint8Array(first)).state).toBe('valid');
    await (await PayloadStore.open(dir, OPTIONS)).close();
    expect(readFileSync(join(dir, IDENTITY_FILE_NAME))).toEqual(first);
  });

  it('a torn creation (empty, or pieces of our prefix with holes) before any segment is written afresh', async () => {
    for (const torn of TORN_IDENTITIES) {
      const dir = tempDir();
      await (await PayloadStore.open(dir, OPTIONS)).close();
      for (const file of readdirSync(dir)) if (file.endsWith('.seg')) rmSync(join(dir, file));
      writeFileSync(join(dir, IDENTITY_FILE_NAME), torn);
      await using store = await PayloadStore.open(dir, OPTIONS);
      expect(IDENTITY.decode(new Uint8Array(readFileSync(join(dir, IDENTITY_FILE_NAME)))).state).toBe('valid');
      expect([...store.scan()]).toEqual([]);
    }
  });

  it('a torn or missing identity beside segments (which carry the id it was written before) is refused, nothing changed', async () => {
    for (const torn of [...TORN_IDENTITIES, null]) {
      const dir = tempDir();
      {
        await using store = await PayloadStore.open(dir, OPTIONS);
        store.append(bytes('kept'));
      }
      if (torn === null) rmSync(join(dir, IDENTITY_FILE_NAME));
      else writeFileSync(join(dir, IDENTITY_FILE_NAME), torn);
      const before = readdirSync(dir).map((file) => [file, readFileSync(join(dir, file)).toString('hex')]);
      expect(await codeOf(() => PayloadStore.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
      expect(readdirSync(dir).map((file) => [file, readFileSync(join(dir, file)).toString('hex')])).toEqual(before);
    }
  });

  it('a file there that is not ours is refused and nothing changes', async () => {
    const dir = tempDir();
    await (await PayloadStore.open(dir, OPTIONS)).close();
    writeFileSync(join(dir, IDENTITY_FILE_NAME), 'somebody else\'s file');
    const before = readdirSync(dir).map((file) => [file, readFileSync(join(dir, file)).toString('hex')]);
    expect(await codeOf(() => PayloadStore.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
    expect(readdirSync(dir).map((file) => [file, readFileSync(join(dir, file)).toString('hex')])).toEqual(before);
  });
});
