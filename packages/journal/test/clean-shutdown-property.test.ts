import { crc32c, isKeelError } from '@keel/core';
import { FaultFs } from '@keel/conformance';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { bytesOf, put } from './support/fault-files.js';
import { CLEAN_SHUTDOWN_BYTES, CLEAN_SHUTDOWN_MAGIC } from '../src/format.js';

const PATH = '/store/journal.wal';
const OTHER = '/store/other.wal';
const RECORD = `${PATH}.clean-shutdown`;
const explicit = { mode: 'explicit' } as const;

/** What happens to the files between the clean close and the next open. */
type Change =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'another-writer'; payloads: Uint8Array[] }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'rewrite-last'; fill: number }
  | { kind: 'replace'; payloads: Uint8Array[] }
  | { kind: 'record-cut'; at: number }
  | { kind: 'record-flip'; at: number; bit: number }
  | { kind: 'record-foreign'; bytes: Uint8Array }
  | { kind: 'record-resealed'; at: number; value: number }
  | { kind: 'record-removed' };

const payloads = fc.array(
  fc.record({ size: fc.integer({ min: 0, max: 300 }), fill: fc.nat({ max: 255 }) }).map(({ size, fill }) => new Uint8Array(size).fill(fill)),
  { minLength: 0, maxLength: 12 },
);
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.constant<Change>({ kind: 'none' }),
  fc.nat().map((at): Change => ({ kind: 'truncate', at })),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes): Change => ({ kind: 'extend', bytes })),
  payloads.filter((list) => list.length > 0).map((list): Change => ({ kind: 'another-writer', payloads: list })),
  fc.record({ at: fc.nat(), bit: fc.nat({ max: 7 }) }).map(({ at, bit }): Change => ({ kind: 'flip', at, bit })),
  payloads.map((list): Change => ({ kind: 'replace', payloads: list })),
  fc.nat({ max: 255 }).map((fill): Change => ({ kind: 'rewrite-last', fill })),
  fc.nat({ max: CLEAN_SHUTDOWN_BYTES - 1 }).map((at): Change => ({ kind: 'record-cut', at })),
  fc.record({ at: fc.nat({ max: CLEAN_SHUTDOWN_BYTES - 1 }), bit: fc.nat({ max: 7 }) }).map(({ at, bit }): Change => ({ kind: 'record-flip', at, bit })),
  fc.uint8Array({ minLength: 0, maxLength: 60 }).map((bytes): Change => ({ kind: 'record-foreign', bytes })),
  fc.record({ at: fc.nat({ max: 31 }), value: fc.nat({ max: 255 }) }).map(({ at, value }): Change => ({ kind: 'record-resealed', at, value })),
  fc.constant<Change>({ kind: 'record-removed' }),
);

async function writeJournal(fs: FaultFs, path: string, records: readonly Uint8Array[]): Promise<void> {
  const journal = await Journal.open(path, { io: fs, durability: explicit });
  if (records.length > 0) journal.appendBatch(records);
  await journal.close();
}

async function apply(fs: FaultFs, change: Change): Promise<void> {
  const journal = bytesOf(fs, PATH) as Uint8Array;
  const record = bytesOf(fs, RECORD) as Uint8Array;
  switch (change.kind) {
    case 'none':
      return;
    case 'truncate':
      return put(fs, PATH, journal.slice(0, change.at % (journal.length + 1)));
    case 'extend':
      return put(fs, PATH, Buffer.concat([journal, change.bytes]));
    case 'another-writer':
    case 'replace': {
      // Frames another writer made (an fsys 0.9 one, say): appended, or a whole other journal in its place.
      await writeJournal(fs, OTHER, change.payloads);
      const other = bytesOf(fs, OTHER) as Uint8Array;
      return put(fs, PATH, change.kind === 'replace' ? other : Buffer.concat([journal, other]));
    }
    case 'flip': {
      if (journal.length === 0) return;
      const damaged = journal.slice();
      damaged[change.at % damaged.length]! ^= 1 << change.bit;
      return put(fs, PATH, damaged);
    }
    case 'rewrite-last': {
      // The last frame rewritten in place with other bytes and a valid CRC: same length, same end.
      const lastAt = lastFrameAt(journal);
      if (lastAt === null) return;
      const rewritten = journal.slice();
      rewritten.fill(change.fill, lastAt + 8, rewritten.length - 4);
      new DataView(rewritten.buffer).setUint32(rewritten.length - 4, crc32c(rewritten.subarray(lastAt, rewritten.length - 4)), true);
      return put(fs, PATH, rewritten);
    }
    case 'record-cut':
      return put(fs, RECORD, record.slice(0, change.at));
    case 'record-flip': {
      const damaged = record.slice();
      damaged[change.at]! ^= 1 << change.bit;
      return put(fs, RECORD, damaged);
    }
    case 'record-foreign':
      return put(fs, RECORD, change.bytes);
    case 'record-resealed': {
      // A field set to another value with the checksum made valid again (a bug, or a hostile tool).
      const resealed = record.slice();
      resealed[8 + change.at] = change.value;
      new DataView(resealed.buffer).setUint32(CLEAN_SHUTDOWN_BYTES - 4, crc32c(resealed.subarray(0, CLEAN_SHUTDOWN_BYTES - 4)), true);
      return put(fs, RECORD, resealed);
    }
    case 'record-removed':
      return fs.remove(RECORD);
  }
}

/** Where the last frame of a whole journal starts (null: empty), walking the lengths. */
function lastFrameAt(journal: Uint8Array): number | null {
  const view = new DataView(journal.buffer, journal.byteOffset, journal.byteLength);
  let last: number | null = null;
  for (let at = 0; at < journal.length; at += 12 + view.getUint32(at + 4, true)) last = at;
  return last;
}

type Outcome = { opened: true; validBytes: number; records: number; tailState: string; discardedBytes: number } | { opened: false; code: string };

/** What opening the files as they are finds, read-only (the record left out when `withoutRecord`: the full check). */
async function openReadOnly(fs: FaultFs, withoutRecord: boolean): Promise<Outcome> {
  const copy = fs.clone();
  if (withoutRecord && copy.stat(RECORD) !== null) copy.remove(RECORD);
  try {
    const journal = await Journal.open(PATH, { io: copy, readOnly: true });
    const { validBytes, records, tailState, discardedBytes } = journal.recovery;
    await journal.close();
    return { opened: true, validBytes, records, tailState, discardedBytes };
  } catch (error) {
    if (!isKeelError(error)) throw error;
    return { opened: false, code: error.code };
  }
}

/** Whether the record's bytes are ours (our magic and length, our size): a writable open removes those, and only those. */
function isOurs(bytes: Uint8Array | undefined): boolean {
  if (bytes === undefined || bytes.length !== CLEAN_SHUTDOWN_BYTES) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(0, false) === CLEAN_SHUTDOWN_MAGIC && view.getUint32(4, true) === CLEAN_SHUTDOWN_BYTES - 12;
}

test('after a clean close and any change, open either trusts the record and ends where the full check ends, or runs the full check', async () => {
  let trusted = 0;
  await fc.assert(
    fc.asyncProperty(payloads, change, async (records, change) => {
      const fs = new FaultFs();
      await writeJournal(fs, PATH, records);
      const closed = bytesOf(fs, PATH) as Uint8Array;
      await apply(fs, change);
      const full = await openReadOnly(fs, true);
      const recordBefore = bytesOf(fs, RECORD);
      // A read-only open decides as a writable one does, and changes nothing.
      const reader = await openReadOnly(fs, false);
      expect(bytesOf(fs, RECORD)).toEqual(recordBefore);
      let journal: Journal;
      try {
        journal = await Journal.open(PATH, { io: fs, durability: explicit });
      } catch (error) {
        // Only the full check refuses, and exactly as it does without the record.
        expect(full).toMatchObject({ opened: false, code: (error as { code: string }).code });
        expect(reader).toEqual(full);
        expect(bytesOf(fs, RECORD)).toEqual(recordBefore);
        return;
      }
      try {
        const report = journal.recovery;
        const fast = report.actions.some((action) => action.kind === 'trusted-clean-shutdown');
        const found: Outcome = { opened: true, validBytes: report.validBytes, records: report.records, tailState: report.tailState, discardedBytes: report.discardedBytes };
        expect(reader).toEqual(found);
        if (change.kind === 'none' || change.kind === 'record-removed') expect(fast).toBe(change.kind === 'none');
        if (fast) {
          trusted++;
          const unchanged = Buffer.compare(bytesOf(fs, PATH) as Uint8Array, closed) === 0;
          if (unchanged && change.kind !== 'record-resealed') {
            expect(found).toEqual(full);
          } else if (unchanged) {
            // A forged count under a valid checksum is taken as written; the end is still proven.
            expect(found).toMatchObject({ validBytes: (full as { validBytes: number }).validBytes });
          } else {
            // The journal changed where the record does not look (its middle): every read that reaches it refuses.
            expect(() => [...journal.records()]).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT' }));
          }
        } else {
          expect(found).toEqual(full);
        }
        // Ours is consumed whatever it said; anything else is left as it was.
        if (isOurs(recordBefore)) expect(fs.stat(RECORD)).toBeNull();
        else expect(bytesOf(fs, RECORD)).toEqual(recordBefore);
      } finally {
        await journal.close();
      }
      // The record this close wrote names the last frame the open found or trusted: the next
      // open trusts it and ends where the full check ends (unless a file not ours holds the name).
      const foreignLeft = recordBefore !== undefined && !isOurs(recordBefore);
      const again = await Journal.open(PATH, { io: fs, readOnly: true });
      await again.close();
      expect(again.recovery.actions.map((action) => action.kind)).toEqual([foreignLeft ? 'ignored-file' : 'trusted-clean-shutdown']);
      const fullNow = await openReadOnly(fs, true);
      if (fullNow.opened) {
        expect(again.recovery.validBytes).toBe(fullNow.validBytes);
        if (change.kind !== 'record-resealed') expect(again.recovery.records).toBe(fullNow.records);
      }
    }),
    { numRuns: 300 },
  );
  // The fast path is taken, not just allowed.
  expect(trusted).toBeGreaterThan(20);
});
