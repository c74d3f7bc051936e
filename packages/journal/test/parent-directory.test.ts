import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Journal } from '../src/index.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();

test('open creates the missing directories above the journal, as every keel store does', async () => {
  const path = join(tempDir(), 'a', 'b', 'app.wal');
  const journal = await Journal.open(path, { durability: 'explicit' });
  journal.append(new Uint8Array([1, 2, 3]));
  await journal.sync();
  await journal.close();
  expect(existsSync(path)).toBe(true);
  await using again = await Journal.open(path, { durability: 'none' });
  expect(again.recovery.records).toBe(1);
});
