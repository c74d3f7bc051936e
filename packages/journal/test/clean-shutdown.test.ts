import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FaultFs, ScenarioRun, fixedScenariosOf } from '@keel/conformance';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { bytesOf, put } from './support/fault-files.js';
import { CLEAN_SHUTDOWN_BYTES } from '../src/format.js';
import { journalAdapter } from './conformance-adapter.js';
import { useTempDir } from './support/temp-dir.js';

const PATH = '/store/journal.wal';
const RECORD = `${PATH}.clean-shutdown`;
const TEMPORARY = `${RECORD}.tmp`;
const explicit = { mode: 'explicit' } as const;
const tempDir = useTempDir();

function kinds(journal: Journal): string[] {
  return journal.recovery.actions.map((action) => action.kind);
}

/** A journal of a few records of several sizes, closed cleanly under `explicit`. */
async function closedJournal(fs: FaultFs): Promise<Uint8Array[]> {
  const journal = await Journal.open(PATH, { io: fs, durability: explicit });
  const payloads = [3, 0, 70, 12, 300].map((size, index) => new Uint8Array(size).fill(index + 1));
  journal.append(payloads[0] as Uint8Array);
  journal.appendBatch(payloads.slice(1));
  await journal.close();
  return payloads;
}

/** What the full check finds: the same files without the record, opened read-only. */
async function fullCheck(fs: FaultFs): Promise<{ validBytes: number; records: number }> {
  const copy = fs.clone();
  if (copy.stat(RECORD) !== null) copy.remove(RECORD);
  const journal = await Journal.open(PATH, { io: copy, readOnly: true });
  const { validBytes, records } = journal.recovery;
  await journal.close();
  return { validBytes, records };
}

test('close writes it once everything is durable; the next open trusts it, finds what a full check finds, and removes it durably', async () => {
  const fs = new FaultFs();
  const payloads = await closedJournal(fs);
  expect(bytesOf(fs, RECORD)?.length).toBe(CLEAN_SHUTDOWN_BYTES);
  const full = await fullCheck(fs);
  const journal = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(journal)).toEqual(['trusted-clean-shutdown']);
  expect(journal.recovery).toMatchObject({ tailState: 'clean-end', discardedBytes: 0, ...full });
  expect(journal.nextLsn).toBe(full.validBytes);
  expect([...journal.records()].map((record) => record.payload)).toEqual(payloads);
  // Removed, and durably so: a power cut that loses every unsynced entry does not bring it back.
  expect(fs.stat(RECORD)).toBeNull();
  const afterPowerCut = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
  expect(afterPowerCut.stat(RECORD)).toBeNull();
  const reopened = await Journal.open(PATH, { io: afterPowerCut, durability: explicit });
  expect(kinds(reopened)).toEqual([]);
  expect(reopened.recovery).toMatchObject(full);
  await reopened.close();
});

test('appends after a trusted open are covered by the record the next close writes', async () => {
  const fs = new FaultFs();
  await closedJournal(fs);
  const journal = await Journal.open(PATH, { io: fs, durability: explicit });
  journal.append(new Uint8Array(9).fill(7));
  await journal.close();
  const full = await fullCheck(fs);
  const reopened = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(reopened)).toEqual(['trusted-clean-shutdown']);
  expect(reopened.recovery).toMatchObject(full);
  expect(full.records).toBe(6);
  await reopened.close();
});

test("an empty journal's close writes one too, and under durability 'none' close writes none", async () => {
  const fs = new FaultFs();
  await (await Journal.open(PATH, { io: fs, durability: explicit })).close();
  const empty = await Journal.open(PATH, { io: fs, durability: { mode: 'none' } });
  expect(kinds(empty)).toEqual(['trusted-clean-shutdown']);
  expect(empty.recovery).toMatchObject({ validBytes: 0, records: 0 });
  empty.append(new Uint8Array(5));
  // Close does not sync under 'none': nothing it could vouch for is durable.
  await empty.close();
  expect(fs.stat(RECORD)).toBeNull();
  const reopened = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(reopened)).toEqual([]);
  expect(reopened.recovery.records).toBe(1);
  await reopened.close();
});

test('a read-only open may trust it, and leaves it where it is', async () => {
  const fs = new FaultFs();
  const payloads = await closedJournal(fs);
  const before = bytesOf(fs, RECORD);
  const reader = await Journal.open(PATH, { io: fs, readOnly: true });
  expect(kinds(reader)).toEqual(['trusted-clean-shutdown']);
  expect([...reader.records()].map((record) => record.payload)).toEqual(payloads);
  await reader.close();
  expect(bytesOf(fs, RECORD)).toEqual(before);
});

test('a record that no longer describes the journal is not trusted: the full check runs and the record goes', async () => {
  const fs = new FaultFs();
  await closedJournal(fs);
  // Another writer (an fsys 0.9 one, say) appended a frame after the clean close.
  const other = await Journal.open(`${PATH}.other`, { io: fs, durability: explicit });
  other.append(new Uint8Array(4).fill(9));
  await other.close();
  const frame = bytesOf(fs, `${PATH}.other`) as Uint8Array;
  const file = fs.open(PATH, { write: true });
  file.writeSync(frame, file.sizeSync());
  file.closeSync();
  const full = await fullCheck(fs);
  const journal = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(journal)).toEqual(['removed-file']);
  expect(journal.recovery).toMatchObject(full);
  expect(full.records).toBe(6);
  expect(fs.stat(RECORD)).toBeNull();
  await journal.close();
});

test('a file at its name that is not a record is left untouched, the journal is checked in full, and no close replaces it', async () => {
  const fs = new FaultFs();
  await closedJournal(fs);
  const notes = new TextEncoder().encode('my notes, not a record\n');
  put(fs, RECORD, notes);
  for (let round = 0; round < 2; round++) {
    const journal = await Journal.open(PATH, { io: fs, durability: explicit });
    expect(kinds(journal)).toEqual(['ignored-file']);
    expect(journal.recovery.records).toBe(5);
    await journal.close();
    expect(bytesOf(fs, RECORD)).toEqual(notes);
  }
});

test('a temporary a crash left inside close is removed; one that is not ours is left, and close then writes no record', async () => {
  const fs = new FaultFs();
  await closedJournal(fs);
  const record = bytesOf(fs, RECORD) as Uint8Array;
  // A close cut short: the temporary holds a prefix of a record, the rest a hole.
  const torn = record.slice(0, 20);
  torn.fill(0, 4, 12);
  put(fs, TEMPORARY, torn);
  const journal = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(journal)).toEqual(['trusted-clean-shutdown', 'removed-temporary']);
  expect(fs.stat(TEMPORARY)).toBeNull();
  await journal.close();
  expect(bytesOf(fs, RECORD)?.length).toBe(CLEAN_SHUTDOWN_BYTES);
  const garbage = Uint8Array.from({ length: 30 }, (_, index) => (index * 37 + 5) & 0xff);
  put(fs, TEMPORARY, garbage);
  const second = await Journal.open(PATH, { io: fs, durability: explicit });
  expect(kinds(second)).toEqual(['trusted-clean-shutdown', 'ignored-file']);
  await second.close();
  expect(fs.stat(RECORD)).toBeNull();
  expect(bytesOf(fs, TEMPORARY)).toEqual(garbage);
});

test('a backup copies the journal alone: its copy holds no record and opens with the full check', async () => {
  const fs = new FaultFs();
  await closedJournal(fs);
  const reader = await Journal.open(PATH, { io: fs, readOnly: true });
  await reader.backup('/backup/journal.wal');
  await reader.close();
  expect(fs.list('/backup')).toEqual(['journal.wal']);
  const copy = await Journal.open('/backup/journal.wal', { io: fs, readOnly: true });
  expect(kinds(copy)).toEqual([]);
  expect(copy.recovery.records).toBe(5);
  await copy.close();
});

test('a direct-IO journal is cut to its end before the record is written, and reopens trusted', async () => {
  const dir = tempDir();
  const path = join(dir, 'direct.wal');
  const journal = await Journal.open(path, { durability: explicit, direct: true });
  const lsn = journal.appendBatch([new Uint8Array(100).fill(1), new Uint8Array(5000).fill(2)]);
  await journal.close();
  expect(readdirSync(dir).sort()).toEqual(['direct.wal', 'direct.wal.clean-shutdown']);
  const reopened = await Journal.open(path, { durability: explicit, direct: true });
  expect(kinds(reopened)).toEqual(['trusted-clean-shutdown']);
  expect(reopened.nextLsn).toBe(lsn);
  expect(existsSync(`${path}.clean-shutdown`)).toBe(false);
  await reopened.close();
});

test("the conformance suite's clean-close scenarios pass, with opens inside them that trust a record", async () => {
  const opened: string[][] = [];
  const watched: typeof journalAdapter = {
    ...journalAdapter,
    async open(io, dir, options) {
      const store = await journalAdapter.open(io, dir, options);
      opened.push(store.journal.recovery.actions.map((action) => action.kind));
      return store;
    },
  };
  for (const name of ['clean-close-then-power-cut', 'clean-close-then-unsynced-entries-kept-in-part']) {
    const fixed = fixedScenariosOf(watched).find((scenario) => scenario.name === name);
    opened.length = 0;
    await new ScenarioRun(watched, fixed!.scenario).run();
    expect(opened.filter((kinds) => kinds.includes('trusted-clean-shutdown')).length).toBeGreaterThanOrEqual(1);
  }
});
