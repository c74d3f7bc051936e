import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal, RECORD_BYTES_MAX } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

async function openWithOneRecord(): Promise<{ journal: Journal; path: string }> {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability });
  journal.append(new Uint8Array([1, 2, 3]));
  await journal.sync();
  return { journal, path };
}

test('non-Uint8Array payloads are refused and nothing changes', async () => {
  const { journal, path } = await openWithOneRecord();
  const before = readFileSync(path);
  for (const payload of ['text', 42, null, undefined, [1, 2], { length: 1 }, new ArrayBuffer(4)]) {
    expect(() => journal.append(payload as never)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    expect(() => journal.appendBatch([new Uint8Array(1), payload as never])).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  }
  expect(() => journal.appendBatch('not an array' as never)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(journal.nextLsn).toBe(15);
  await journal.close();
  expect(readFileSync(path).equals(before)).toBe(true);
});

test('a payload over the maximum is KEEL_TOO_LARGE, also inside a batch, and nothing is appended', async () => {
  const { journal, path } = await openWithOneRecord();
  const tooLarge = new Uint8Array(RECORD_BYTES_MAX + 1);
  expect(() => journal.append(tooLarge)).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
  expect(() => journal.appendBatch([new Uint8Array(5), tooLarge])).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
  expect(journal.nextLsn).toBe(15);
  await journal.close();
  expect(readFileSync(path).length).toBe(15);
});

test('LSNs and positions beyond the end or malformed are KEEL_BAD_ARGUMENT', async () => {
  const { journal } = await openWithOneRecord();
  await expect(journal.syncThrough(16)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  for (const lsn of [-1, 1.5, Number.NaN, '3', 2 ** 53]) {
    await expect(journal.syncThrough(lsn as never)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  }
  expect(() => journal.records({ from: 16 })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(() => [...journal.records({ from: 5 })]).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(() => journal.stream({ from: -1 })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(() => journal.advise(0, 10, 'sometimes' as never)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(() => journal.preallocate(-5)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  await journal.close();
});

test('bad open options are refused before the file is created', async () => {
  const dir = tempDir();
  const path = join(dir, 'wal');
  await expect(Journal.open(path, { durability: { mode: 'sometimes' } as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open(path, { recovery: 'hope' as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open(path, { preallocate: -1 })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open(path, { direct: 'yes' as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open('' as string)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  const { existsSync } = await import('node:fs');
  expect(existsSync(path)).toBe(false);
});

test('every method refuses use after close with KEEL_CLOSED and the file is untouched', async () => {
  const { journal, path } = await openWithOneRecord();
  await journal.close();
  const before = readFileSync(path);
  expect(() => journal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  expect(() => journal.appendBatch([new Uint8Array(1)])).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  await expect(journal.sync()).rejects.toMatchObject({ code: 'KEEL_CLOSED' });
  await expect(journal.syncThrough(0)).rejects.toMatchObject({ code: 'KEEL_CLOSED' });
  expect(() => journal.records()).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  expect(() => journal.stream()).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  expect(() => journal.preallocate(4096)).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  expect(() => journal.advise(0, 1, 'normal')).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  expect(journal.stats().closed).toBe(true);
  expect(readFileSync(path).equals(before)).toBe(true);
});

test('the offline reader refuses bad positions and use after close', async () => {
  const { journal, path } = await openWithOneRecord();
  await journal.close();
  const { JournalReader } = await import('../src/index.js');
  const reader = await JournalReader.open(path);
  expect(() => reader.records({ from: -3 })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  reader.close();
  reader.close();
  expect(() => reader.records()).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  await expect(JournalReader.open(join(tempDir(), 'missing'))).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
});

test('an io option that is not an Io, or bigints in options, are KEEL_BAD_ARGUMENT', async () => {
  const path = join(tempDir(), 'wal');
  await expect(Journal.open(path, { io: {} as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open(path, { durability: { mode: 'every-n', n: 2n } as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  await expect(Journal.open(path, { recovery: 1n as never })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
});
