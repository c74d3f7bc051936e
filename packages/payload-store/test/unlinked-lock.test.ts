import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LOCK_FILE_NAME } from '../src/format.js';
import { PayloadStore } from '../src/index.js';
import { codeOf, tempDir } from './helpers.js';

it('a lock file unlinked while the store is open does not let a second writer in', async () => {
  const dir = tempDir();
  const first = await PayloadStore.open(dir);
  rmSync(join(dir, LOCK_FILE_NAME));
  expect(await codeOf(() => PayloadStore.open(dir))).toBe('KEEL_LOCKED');
  await first.close();
});
