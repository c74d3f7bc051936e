import { join } from 'node:path';
import { expect, test } from 'vitest';
import { InterceptedIo, ioError, joinPath, nativeIo, type IoMutation } from '@keel/core';
import { runSyncSyncCrashPoints } from '@keel/conformance';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

/** Fails the n-th fdatasync (sync or async) with EIO. */
class FailingDatasyncIo extends InterceptedIo {
  datasyncs = 0;
  constructor(readonly failAt: number) {
    super(nativeIo);
  }
  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (operation === 'datasync' && ++this.datasyncs === this.failAt) throw ioError('EIO', 'fdatasync', path);
    return run();
  }
}

test('syncSync and syncThroughSync make what was appended durable before they return', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability });
  const first = journal.append(new Uint8Array(10));
  expect(journal.syncThroughSync(first)).toBe(first);
  expect(journal.syncedLsn).toBe(first);
  journal.appendBatch([new Uint8Array(5), new Uint8Array(6)]);
  expect(journal.syncSync()).toBe(journal.nextLsn);
  // Nothing new to sync: no fdatasync at all.
  const syncs = journal.stats().flushes;
  expect(journal.syncSync()).toBe(journal.nextLsn);
  expect(journal.stats().flushes).toBe(syncs);
  expect(() => journal.syncThroughSync(journal.nextLsn + 1)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect(() => journal.syncThroughSync(-1)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  await journal.close();
  expect(() => journal.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
});

test('a failed synchronous fdatasync poisons the journal like a failed async one', async () => {
  const path = join(tempDir(), 'wal');
  const io = new FailingDatasyncIo(1);
  const journal = await Journal.open(path, { durability, io });
  const waiting = journal.syncThrough(journal.append(new Uint8Array(10)));
  expect(() => journal.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_IO', errno: 'EIO' }));
  await expect(waiting).rejects.toMatchObject({ code: 'KEEL_IO' });
  expect(journal.syncedLsn).toBe(0);
  expect(journal.stats().poisoned).toBe(true);
  expect(() => journal.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  expect(() => journal.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
  await expect(journal.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  await expect(journal.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
});

test('syncSync: every record acknowledged durable survives a crash at every disk operation', async () => {
  const points = await runSyncSyncCrashPoints<Journal>({
    open: (io, dir) => Journal.open(joinPath(dir, 'journal.wal'), { io, durability }),
    append: (journal, payloads) => void journal.appendBatch(payloads),
    syncSync: (journal) => void journal.syncSync(),
    sync: (journal) => journal.sync(),
    read: (journal) => [...journal.records()].map((record) => record.payload),
    close: (journal) => journal.close(),
  });
  expect(points).toBeGreaterThan(10);
});
