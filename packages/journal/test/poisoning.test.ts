import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { recordingIo } from './support/recording-io.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

test('a failed fdatasync fails its waiters and poisons the journal for good', async () => {
  const path = join(tempDir(), 'wal');
  const { io } = recordingIo({ failDatasync: 1 });
  const journal = await Journal.open(path, { durability, io });
  const lsn = journal.append(new Uint8Array(10));
  const [first, second] = await Promise.allSettled([journal.syncThrough(lsn), journal.sync()]);
  expect(first).toMatchObject({ status: 'rejected', reason: { code: 'KEEL_IO', errno: 'EIO' } });
  expect(second.status).toBe('rejected');
  expect(journal.syncedLsn).toBe(0);
  expect(journal.stats().poisoned).toBe(true);
  expect(() => journal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  expect(() => journal.appendBatch([new Uint8Array(1)])).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  await expect(journal.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  await expect(journal.syncThrough(lsn)).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  // Reads of what was handed to the OS stay allowed; close releases the lock without
  // syncing and rejects, so that nobody takes it for a clean close.
  expect([...journal.records()].length).toBe(1);
  await expect(journal.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  await using reopened = await Journal.open(path, { durability });
  expect(reopened.nextLsn).toBeLessThanOrEqual(22);
});

test('a failed write poisons the journal and the append that hit it throws', async () => {
  const path = join(tempDir(), 'wal');
  const { io } = recordingIo({ failWrite: 1 });
  const journal = await Journal.open(path, { durability, io, writeBufferBytes: 4096 });
  journal.append(new Uint8Array(100));
  expect(() => journal.append(new Uint8Array(5000))).toThrow(expect.objectContaining({ code: 'KEEL_IO' }));
  expect(() => journal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  await expect(journal.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  await expect(journal.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  expect(readFileSync(path).length).toBe(0);
});

test('with every-write durability a failed background flush poisons the next append', async () => {
  const path = join(tempDir(), 'wal');
  const { io, log } = recordingIo({ failDatasync: 1 });
  const journal = await Journal.open(path, { durability: { mode: 'every-write' }, io });
  journal.append(new Uint8Array(3));
  await expect(journal.syncThrough(journal.nextLsn)).rejects.toMatchObject({ code: 'KEEL_IO' });
  expect(log.datasyncsStarted).toBe(1);
  expect(() => journal.append(new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  await expect(journal.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
});

test('a write that fails inside a sync rejects that sync with the write error, then poisons', async () => {
  const path = join(tempDir(), 'wal');
  const { io } = recordingIo({ failWrite: 1 });
  const journal = await Journal.open(path, { durability, io });
  const lsn = journal.append(new Uint8Array(10));
  await expect(journal.syncThrough(lsn)).rejects.toMatchObject({ code: 'KEEL_IO', errno: 'EIO' });
  expect(journal.syncedLsn).toBe(0);
  expect(() => journal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  await expect(journal.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
});
