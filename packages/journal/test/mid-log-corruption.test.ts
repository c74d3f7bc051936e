import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal, JournalReader } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

/** A journal damaged in the middle; `crashed`: as a crash leaves it (no clean-shutdown record), else closed cleanly. */
async function damagedJournal(crashed = true): Promise<{ path: string; lsns: number[]; bytes: Buffer }> {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability });
  const lsns = [1, 2, 3, 4].map((value) => journal.append(new Uint8Array(50).fill(value)));
  await journal.close();
  if (crashed) rmSync(`${path}.clean-shutdown`);
  const bytes = readFileSync(path);
  // A bit flip inside the second record's payload: valid frames follow it.
  bytes[lsns[0]! + 20]! ^= 0x10;
  writeFileSync(path, bytes);
  return { path, lsns, bytes };
}

test('corruption followed by valid frames is refused with its offset and nothing changes', async () => {
  const { path, lsns, bytes } = await damagedJournal();
  await expect(Journal.open(path, { durability })).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: lsns[0] });
  await expect(Journal.open(path, { durability, recovery: 'strict' })).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: lsns[0] });
  expect(readFileSync(path).equals(bytes)).toBe(true);
  using reader = await JournalReader.open(path);
  expect([...reader].length).toBe(1);
  expect(reader).toMatchObject({ tailState: 'checksum-mismatch', position: lsns[0] });
});

test('salvage keeps the valid prefix, saves the rest beside the file, and appends continue', async () => {
  const { path, lsns, bytes } = await damagedJournal();
  const journal = await Journal.open(path, { durability, recovery: 'salvage' });
  expect(journal.recovery).toMatchObject({ tailState: 'checksum-mismatch', validBytes: lsns[0], records: 1, discardedBytes: bytes.length - lsns[0]! });
  expect(readFileSync(journal.recovery.savedTailPath!).equals(bytes.subarray(lsns[0]!))).toBe(true);
  expect(journal.append(new Uint8Array([7]))).toBe(lsns[0]! + 13);
  await journal.close();
  const reopened = await Journal.open(path, { durability });
  expect([...reopened.records()].map((record) => record.payload[0])).toEqual([1, 7]);
  await reopened.close();
});

test('after a clean close open does not read the middle of the journal: the read that reaches damage there refuses it with its offset', async () => {
  const { path, lsns } = await damagedJournal(false);
  await using journal = await Journal.open(path, { durability });
  expect(journal.recovery.actions.map((action) => action.kind)).toEqual(['trusted-clean-shutdown']);
  expect(existsSync(`${path}.clean-shutdown`)).toBe(false);
  expect(() => [...journal.records()]).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', offset: lsns[0] }));
});
