import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { LOCK_FILE_NAME } from '../src/format.js';
import { WalKv } from '../src/index.js';
import { expectCode, temporaryDir } from './helpers.js';

it('a lock file unlinked while the store is open does not let a second writer in', async () => {
  const dir = temporaryDir();
  const first = await WalKv.open(dir);
  rmSync(join(dir, LOCK_FILE_NAME));
  await expectCode(() => WalKv.open(dir), 'KEEL_LOCKED');
  await first.close();
});
