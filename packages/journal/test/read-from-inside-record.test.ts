import { encodeFrame } from '@keel/core';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BOUNDARY_INTERVAL_BYTES } from '../src/record-boundaries.js';

import { JOURNAL_FRAME_FORMAT, Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;
const HEADER_BYTES = 8;

async function drain(journal: Journal, from: number): Promise<number[]> {
  const lsns: number[] = [];
  for await (const record of journal.stream({ from })) lsns.push(record.lsn);
  return lsns;
}

test('records() and stream() from an LSN inside a record whose payload is a frame: KEEL_BAD_ARGUMENT, never a fabricated record', async () => {
  const path = join(tempDir(), 'wal');
  // A payload that is itself a whole, valid journal frame, as a journal of journals holds.
  const inner = encodeFrame(new Uint8Array([7, 7, 7]), JOURNAL_FRAME_FORMAT);
  {
    await using journal = await Journal.open(path, { durability });
    const first = journal.append(new Uint8Array([1]));
    const second = journal.append(inner);
    const insideSecond = first + HEADER_BYTES;
    expect(() => [...journal.records({ from: insideSecond })]).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    await expect(drain(journal, insideSecond)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    // Boundaries still read as before, buffered or not.
    expect([...journal.records({ from: first })].map((record) => record.lsn)).toEqual([second]);
    await journal.sync();
    expect(await drain(journal, first)).toEqual([second]);
  }
  // After a reopen the boundaries come from walking the recovered frames.
  await using reopened = await Journal.open(path, { durability });
  expect(() => reopened.records({ from: 1 + 12 + HEADER_BYTES })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  expect([...reopened.records({ from: 13 })].map((record) => record.payload.length)).toEqual([inner.length]);
});

test('a journal longer than the boundary interval tells boundaries from inner positions anywhere in it', async () => {
  const path = join(tempDir(), 'wal');
  const payload = new Uint8Array((64 << 10) - 12).fill(3);
  const lsns: number[] = [];
  {
    await using journal = await Journal.open(path, { durability });
    for (let written = 0; written < 3 * BOUNDARY_INTERVAL_BYTES; written += payload.length + 12) lsns.push(journal.append(payload));
  }
  await using journal = await Journal.open(path, { durability });
  for (const lsn of [lsns[40]!, lsns[3]!, lsns[lsns.length - 2]!, lsns[20]!]) {
    expect(journal.records({ from: lsn }).next().value?.lsn).toBe(lsn + payload.length + 12);
    expect(() => journal.records({ from: lsn + 4 })).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  }
});
