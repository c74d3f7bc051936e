import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const durability = { mode: 'explicit' } as const;
const MIB = 1 << 20;

test('preallocation reserves space without moving the logical end', async () => {
  const path = join(tempDir(), 'wal');
  const journal = await Journal.open(path, { durability, preallocate: 2 * MIB });
  const reserved = journal.preallocate(4 * MIB);
  const lsn = journal.append(new Uint8Array(100));
  await journal.sync();
  // KEEP_SIZE: the size is the journal's end, so a scan stops there and finds no zero tail.
  expect(statSync(path).size).toBe(lsn);
  if (reserved) expect(statSync(path).blocks * 512).toBeGreaterThanOrEqual(4 * MIB);
  journal.advise(0, lsn, 'sequential');
  journal.advise(0, 0, 'dontneed');
  await journal.close();
  await using again = await Journal.open(path, { durability });
  expect(again.recovery).toMatchObject({ tailState: 'clean-end', discardedBytes: 0, records: 1 });
});
