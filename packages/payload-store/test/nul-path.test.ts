import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { codeOf, tempDir } from './helpers.js';

it('a NUL byte in the directory path is KEEL_BAD_ARGUMENT', async () => {
  expect(await codeOf(() => PayloadStore.open(join(tempDir(), 'store\0x')))).toBe('KEEL_BAD_ARGUMENT');
});
