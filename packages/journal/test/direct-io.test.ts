import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nativeIo } from '@keel/core';
import { expect, test } from 'vitest';
import { DIRECT_IO_ALIGNMENT_BYTES, Journal, JournalReader } from '../src/index.js';
import { recordingIo } from './support/recording-io.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;
const payload = (size: number, fill: number): Uint8Array => new Uint8Array(size).fill(fill);
const SIZES = [1, 4000, 100, 9000, 0, 77, 4084];

test('direct mode writes whole aligned blocks, rewrites the partial block, and ends at the logical end on close', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability, direct: true });
  // A file system that accepts O_DIRECT (ext4, xfs, btrfs) gets it; the report must say so.
  const probe = nativeIo.open(join(tempDir(), 'probe'), { create: true, direct: true });
  expect(journal.isDirect).toBe(probe.isDirect);
  probe.closeSync();
  let lsn = 0;
  for (const [index, size] of SIZES.entries()) {
    lsn = journal.append(payload(size, index + 1));
    await journal.syncThrough(lsn);
    // Between syncs the file holds whole blocks: the frames, then zero padding.
    if (journal.isDirect) expect(statSync(path).size % DIRECT_IO_ALIGNMENT_BYTES).toBe(0);
  }
  expect([...journal.records()].map((record) => record.payload.length)).toEqual(SIZES);
  await journal.close();
  expect(statSync(path).size).toBe(lsn);

  // Reopen in direct mode: the partial last block is read back and rewritten whole.
  const again = await Journal.open(path, { durability, direct: true });
  expect(again.recovery.tailState).toBe('clean-end');
  again.appendBatch([payload(10, 50), payload(5000, 51)]);
  await again.close();
  using reader = await JournalReader.open(path);
  const records = [...reader];
  expect(records.map((record) => record.payload.length)).toEqual([...SIZES, 10, 5000]);
  expect(records.map((record) => record.payload[0] ?? 0)).toEqual([1, 2, 3, 4, 0, 6, 7, 50, 51]);
  expect(reader.tailState).toBe('clean-end');
});

test('a crash in direct mode leaves zero padding that recovery cuts, keeping every synced record', async () => {
  const dir = tempDir();
  const path = join(dir, 'wal');
  const journal = await Journal.open(path, { durability, direct: true });
  const lsns = SIZES.map((size, index) => journal.append(payload(size, index + 1)));
  await journal.sync();
  // The state a crash leaves now: the file as it is while the journal is open.
  const crashed = join(dir, 'crashed');
  copyFileSync(path, crashed);
  await journal.close();
  const padding = readFileSync(crashed).length - lsns.at(-1)!;
  const recovered = await Journal.open(crashed, { durability, direct: true });
  expect(recovered.recovery).toMatchObject({ validBytes: lsns.at(-1), records: SIZES.length, discardedBytes: padding });
  if (recovered.isDirect) expect(padding).toBeGreaterThan(0);
  expect(recovered.nextLsn).toBe(lsns.at(-1));
  expect([...recovered.records()].map((record) => record.payload.length)).toEqual(SIZES);
  await recovered.close();
});

test('where O_DIRECT is refused the journal falls back to buffered writes and says so', async () => {
  const path = join(tempDir(), 'wal');
  const { io } = recordingIo({ refuseDirect: true });
  const journal = await Journal.open(path, { durability, direct: true, io });
  expect(journal.isDirect).toBe(false);
  expect(journal.stats().isDirect).toBe(false);
  const lsn = journal.appendBatch(SIZES.map((size, index) => payload(size, index)));
  await journal.syncThrough(lsn);
  expect(statSync(path).size).toBe(lsn);
  await journal.close();
});

// Older kernels refuse O_DIRECT on tmpfs (newer ones accept it): either way the report is honest.
test('on tmpfs the journal reports whatever the file system grants and works either way', async () => {
  if (!existsSync('/dev/shm')) return;
  const shm = useShm();
  const path = join(shm, 'wal');
  const probe = nativeIo.open(join(shm, 'probe'), { create: true, direct: true });
  const granted = probe.isDirect;
  probe.closeSync();
  const journal = await Journal.open(path, { durability, direct: true });
  expect(journal.isDirect).toBe(granted);
  const lsn = journal.appendBatch([payload(3, 1), payload(5000, 2)]);
  await journal.syncThrough(lsn);
  await journal.close();
  expect(statSync(path).size).toBe(lsn);
});

const useShm = useTempDirIn('/dev/shm');
function useTempDirIn(parent: string): () => string {
  return existsSync(parent) ? useTempDir('keel-journal-', parent) : () => '';
}
