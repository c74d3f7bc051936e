import { existsSync, readFileSync, readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { InterceptedIo, ioError, nativeIo, type IoMutation } from '@keel/core';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

async function writeJournal(path: string, payloads: Uint8Array[]): Promise<number[]> {
  const journal = await Journal.open(path, { durability });
  const lsns = payloads.map((payload) => journal.append(payload));
  await journal.close();
  return lsns;
}

test('a tail torn at every byte of the last frame is saved, cut, and appends continue at the clean end', async () => {
  const dir = tempDir();
  const payloads = [new Uint8Array(40).fill(1), new Uint8Array(23).fill(2)];
  const source = join(dir, 'source');
  const [firstEnd, lastEnd] = await writeJournal(source, payloads);
  const whole = readFileSync(source);
  for (let cut = firstEnd! + 1; cut < lastEnd!; cut++) {
    const path = join(dir, `torn-${cut}`);
    await writeJournal(path, payloads);
    truncateSync(path, cut);
    const journal = await Journal.open(path, { durability });
    const { recovery } = journal;
    expect(recovery.tailState).toBe(cut - firstEnd! < 8 ? 'truncated-header' : 'truncated-payload');
    expect(recovery).toMatchObject({ validBytes: firstEnd, discardedBytes: cut - firstEnd!, records: 1 });
    expect(readFileSync(recovery.savedTailPath!).equals(whole.subarray(firstEnd!, cut))).toBe(true);
    expect(journal.nextLsn).toBe(firstEnd);
    expect(journal.append(new Uint8Array([9, 9]))).toBe(firstEnd! + 14);
    await journal.sync();
    expect([...journal.records()].map((record) => record.payload.length)).toEqual([40, 2]);
    await journal.close();
    // Recovery is idempotent: the second open finds a clean journal.
    const again = await Journal.open(path, { durability });
    expect(again.recovery).toMatchObject({ tailState: 'clean-end', discardedBytes: 0, records: 2 });
    await again.close();
  }
});

test('a checksum mismatch in the last frame is a torn tail', async () => {
  const path = join(tempDir(), 'wal');
  const [firstEnd] = await writeJournal(path, [new Uint8Array(10).fill(1), new Uint8Array(10).fill(2)]);
  const bytes = readFileSync(path);
  bytes[bytes.length - 1]! ^= 0xff;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, bytes);
  await using journal = await Journal.open(path, { durability });
  expect(journal.recovery).toMatchObject({ tailState: 'checksum-mismatch', validBytes: firstEnd, records: 1 });
  expect(existsSync(journal.recovery.savedTailPath!)).toBe(true);
});

test('strict refuses a torn tail and leaves every byte unchanged', async () => {
  const path = join(tempDir(), 'wal');
  const [, lastEnd] = await writeJournal(path, [new Uint8Array(10), new Uint8Array(10)]);
  truncateSync(path, lastEnd! - 3);
  const before = readFileSync(path);
  await expect(Journal.open(path, { durability, recovery: 'strict' })).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: 22 });
  expect(readFileSync(path).equals(before)).toBe(true);
  // The refused open released its lock: the default policy can open it now.
  await using journal = await Journal.open(path, { durability });
  expect(journal.recovery.tailState).toBe('truncated-payload');
});

/** A disk that is full for every file but the journal: its torn tail cannot be saved. */
class FullBesideJournalIo extends InterceptedIo {
  constructor(private readonly journalPath: string) {
    super(nativeIo);
  }
  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (operation === 'write' && path !== this.journalPath) throw ioError('ENOSPC', 'write', path);
    return run();
  }
}

test('a torn tail that cannot be saved (disk full) refuses the open and leaves no partial saved tail', async () => {
  const dir = tempDir();
  const path = join(dir, 'wal');
  const [, lastEnd] = await writeJournal(path, [new Uint8Array(10), new Uint8Array(30)]);
  truncateSync(path, lastEnd! - 3);
  const before = readFileSync(path);
  const names = readdirSync(dir);
  await expect(Journal.open(path, { durability, io: new FullBesideJournalIo(path) })).rejects.toMatchObject({ code: 'KEEL_IO', errno: 'ENOSPC' });
  // The journal and the clean-shutdown record its close wrote (which no longer matches), as they were.
  expect(readdirSync(dir)).toEqual(names);
  expect(readFileSync(path).equals(before)).toBe(true);
});
