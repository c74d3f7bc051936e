import { join } from 'node:path';
import { it } from 'vitest';
import { WalKv } from '../src/index.js';
import { expectCode, temporaryDir } from './helpers.js';

it('a NUL byte in the directory path is KEEL_BAD_ARGUMENT', async () => {
  await expectCode(() => WalKv.open(join(temporaryDir(), 'kv\0x')), 'KEEL_BAD_ARGUMENT');
});
