import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal, JournalReader } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();

test('a second open of the same journal gets KEEL_LOCKED until the first closes', async () => {
  const path = join(tempDir(), 'wal');
  const first = await Journal.open(path, { durability: { mode: 'explicit' } });
  first.append(new Uint8Array([1]));
  await expect(Journal.open(path, { durability: { mode: 'explicit' } })).rejects.toMatchObject({ code: 'KEEL_LOCKED' });
  await expect(Journal.open(path, { durability: { mode: 'explicit' }, direct: true })).rejects.toMatchObject({ code: 'KEEL_LOCKED' });
  // The offline reader takes no lock.
  using reader = await JournalReader.open(path);
  expect(reader.size).toBe(0);
  await first.close();
  await using second = await Journal.open(path, { durability: { mode: 'explicit' } });
  expect(second.nextLsn).toBe(13);
});
