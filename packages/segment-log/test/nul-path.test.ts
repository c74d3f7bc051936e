import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { codeOf, tempDir } from './helpers.js';

it('a NUL byte in the directory path is KEEL_BAD_ARGUMENT, and nothing is created', async () => {
  expect(await codeOf(() => SegmentLog.open(join(tempDir(), 'log\0x')))).toBe('KEEL_BAD_ARGUMENT');
});
