import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Journal, type JournalBatch } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;

interface Seen {
  lsn: number;
  payload: number[];
}

/** A batch's records copied out (a scan reuses its batch). */
function copyOut(batch: JournalBatch, into: Seen[]): void {
  for (let index = 0; index < batch.count; index++) into.push({ lsn: batch.lsn(index), payload: [...batch.payload(index)] });
}

async function scanAll(journal: Journal, from: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const batch of journal.scan({ from })) copyOut(batch, seen);
  return seen;
}

/** Payloads: mostly small, some larger than the scan's 64 KiB carry room. */
const payloadArbitrary = fc.oneof(
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 300_000 }).map((length) => new Uint8Array(length).fill(length & 0xff)) },
);

test('scan yields what records() yields, from any record, buffered records included', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(payloadArbitrary, { maxLength: 60 }),
      fc.array(payloadArbitrary, { maxLength: 20 }),
      fc.integer({ min: 4096, max: 1 << 20 }),
      fc.nat(),
      async (written, buffered, writeBufferBytes, fromRecord) => {
        const path = join(tempDir(), 'wal');
        await using journal = await Journal.open(path, { durability, writeBufferBytes });
        const lsns = [0, ...written.map((payload) => journal.append(payload))];
        await journal.sync();
        lsns.push(...buffered.map((payload) => journal.append(payload)));
        const from = lsns[fromRecord % lsns.length]!;
        const expected = [...journal.records({ from })].map((record) => ({ lsn: record.lsn, payload: [...record.payload] }));
        expect(await scanAll(journal, from)).toEqual(expected);
      },
    ),
    { numRuns: 40 },
  );
});

test('scan refuses damage below the end as records() does, and stops on close and abort', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability });
  const lsns = Array.from({ length: 2000 }, (_, index) => journal.append(new Uint8Array(1000).fill(index & 0xff)));
  await journal.sync();
  const bytes = readFileSync(path);
  bytes[lsns[1500]! + 20]! ^= 0x10;
  writeFileSync(path, bytes);
  await expect(scanAll(journal, 0)).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: lsns[1500] });
  expect(() => [...journal.records()]).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', offset: lsns[1500] }));

  const aborting = new AbortController();
  const aborted = journal.scan({ signal: aborting.signal });
  expect((await aborted.next()).done).toBe(false);
  aborting.abort(new Error('enough'));
  await expect(aborted.next()).rejects.toMatchObject({ code: 'KEEL_ABORTED' });

  const closing = journal.scan();
  expect((await closing.next()).done).toBe(false);
  await journal.close();
  expect((await closing.next()).done).toBe(true);
  expect(() => journal.scan()).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
});
