import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createDirectoryDurably, InterceptedIo, isKeelError, nativeIo, type IoFile } from '@keel/core';
import { FaultFs, makePayload, payloadId } from '@keel/conformance';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

/** nativeIo whose file at `watched` (the journal, not the files beside it) reports which of `useSyncThread` and `closeSync` the journal called, and what they answered. */
class SpyingIo extends InterceptedIo {
  readonly calls: string[] = [];
  readonly #watched: string;

  constructor(watched: string) {
    super(nativeIo);
    this.#watched = watched;
  }

  override wrap(file: IoFile): IoFile {
    if (file.path !== this.#watched) return super.wrap(file);
    const calls = this.calls;
    const spied = new Proxy(file, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        if (key !== 'useSyncThread' && key !== 'closeSync') return method;
        return (...args: unknown[]) => {
          const result = method(...args);
          calls.push(`${key} ${String(result)}`);
          return result;
        };
      },
    });
    return super.wrap(spied);
  }
}

test('the first async sync moves the file’s syncs to a thread of its own; what they synced reads back', async () => {
  const path = join(tempDir(), 'wal');
  const io = new SpyingIo(path);
  const journal = await Journal.open(path, { durability, io });
  journal.append(Buffer.from('zero'));
  journal.syncSync();
  expect(io.calls).toEqual([]);
  for (let index = 1; index <= 20; index++) await journal.syncThrough(journal.append(Buffer.from(`record ${index}`)));
  expect(journal.syncedLsn).toBe(journal.nextLsn);
  expect(io.calls).toEqual(['useSyncThread true']);
  await journal.close();
  expect(io.calls).toEqual(['useSyncThread true', 'closeSync undefined']);
  const reopened = await Journal.open(path, { durability });
  const expected = ['zero', ...Array.from({ length: 20 }, (_, index) => `record ${index + 1}`)];
  expect([...reopened.records()].map((record) => Buffer.from(record.payload).toString())).toEqual(expected);
  await reopened.close();
});

test('concurrent writers still share fdatasyncs through the sync thread', async () => {
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability });
  const writers = Array.from({ length: 64 }, (_, index) => journal.syncThrough(journal.append(Buffer.from(`writer ${index}`))));
  const durable = await Promise.all(writers);
  expect(Math.min(...durable)).toBe(journal.nextLsn);
  expect(journal.stats().flushes).toBeLessThan(64);
  await journal.close();
});

test('syncThread: false keeps the syncs on the threadpool', async () => {
  const path = join(tempDir(), 'wal');
  const io = new SpyingIo(path);
  const journal = await Journal.open(path, { durability, io, syncThread: false });
  await journal.syncThrough(journal.append(Buffer.from('x')));
  await journal.close();
  expect(io.calls).toEqual(['closeSync undefined']);
});

test('syncThread must be a boolean', async () => {
  const error = await Journal.open(join(tempDir(), 'wal'), { syncThread: 'yes' as unknown as boolean }).catch((caught: unknown) => caught);
  expect(isKeelError(error, 'KEEL_BAD_ARGUMENT')).toBe(true);
});

test('over FaultFs, which has no sync thread, every async sync is still one FaultFs sees, crashes and fails', async () => {
  const fs = new FaultFs();
  await createDirectoryDurably(fs, '/store');
  const journal = await Journal.open('/store/wal', { io: fs, durability });
  for (let id = 1; id <= 3; id++) await journal.syncThrough(journal.append(makePayload(id, 16)));
  journal.append(makePayload(4, 16));
  const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
  const recovered = await Journal.open('/store/wal', { io: crashed, durability });
  expect([...recovered.records()].map((record) => payloadId(record.payload))).toEqual([1, 2, 3]);
  crashed.inject({ operation: 'sync', nth: 1, errno: 'EIO' });
  const failed = await recovered.syncThrough(recovered.append(makePayload(5, 16))).catch((error: unknown) => error);
  expect(isKeelError(failed, 'KEEL_IO')).toBe(true);
  const after = await recovered.syncThrough(recovered.nextLsn).catch((error: unknown) => error);
  expect(isKeelError(after, 'KEEL_POISONED')).toBe(true);
  await recovered.close().catch(() => undefined);
  await journal.close().catch(() => undefined);
});
