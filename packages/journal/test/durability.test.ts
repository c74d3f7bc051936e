import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { recordingIo } from './support/recording-io.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
/** Runs every queued microtask (where group commits start) and the IO callbacks before it. */
const afterMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('every-write starts one group commit per turn on its own', async () => {
  const { io, log } = recordingIo();
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability: { mode: 'every-write' }, io });
  journal.append(new Uint8Array(5));
  journal.append(new Uint8Array(5));
  await afterMicrotasks();
  expect(log.datasyncsStarted).toBe(1);
  expect(await journal.syncThrough(journal.nextLsn)).toBe(34);
  await journal.close();
});

test('every-n starts a group commit after every n records', async () => {
  const { io, log } = recordingIo();
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability: { mode: 'every-n', n: 3 }, io });
  journal.append(new Uint8Array(1));
  journal.append(new Uint8Array(1));
  await afterMicrotasks();
  expect(log.datasyncsStarted).toBe(0);
  journal.append(new Uint8Array(1));
  await afterMicrotasks();
  expect(log.datasyncsStarted).toBe(1);
  journal.appendBatch([new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]);
  await journal.close();
  expect(log.datasyncsStarted).toBe(2);
});

test('interval syncs unsynced records on a timer', async () => {
  let started: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => (started = resolve));
  const { io } = recordingIo({ onDatasyncStart: () => started() });
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability: { mode: 'interval', ms: 5 }, io });
  const lsn = journal.append(new Uint8Array(8));
  await firstSync;
  expect(await journal.syncThrough(lsn)).toBe(lsn);
  await journal.close();
});

test('explicit syncs only when asked and on close', async () => {
  const { io, log } = recordingIo();
  const journal = await Journal.open(join(tempDir(), 'wal'), { durability: { mode: 'explicit' }, io });
  journal.appendBatch([new Uint8Array(8), new Uint8Array(9)]);
  await afterMicrotasks();
  expect(log.datasyncsStarted).toBe(0);
  await journal.close();
  expect(log.datasyncsFinished).toBe(1);
});

test("'none' never syncs, not even on close, but hands every record to the OS", async () => {
  const path = join(tempDir(), 'wal');
  const { io, log } = recordingIo();
  const journal = await Journal.open(path, { durability: { mode: 'none' }, io });
  const lsn = journal.append(new Uint8Array(8));
  await journal.close();
  expect(log.datasyncsStarted).toBe(0);
  await using reopened = await Journal.open(path, { durability: { mode: 'none' } });
  expect(reopened.nextLsn).toBe(lsn);
});
