import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORE_LOCK_FILE_NAME, lockStoreDirectory, nativeIo } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

describe('lockStoreDirectory', () => {
  const tempDir = useTempDir();

  it('still refuses a second holder after the lock file was unlinked, and releases both on close', () => {
    const dir = tempDir();
    const first = lockStoreDirectory(nativeIo, dir);
    rmSync(join(dir, STORE_LOCK_FILE_NAME));
    expect(() => lockStoreDirectory(nativeIo, dir)).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    first.closeSync();
    const second = lockStoreDirectory(nativeIo, dir);
    expect(() => lockStoreDirectory(nativeIo, dir)).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    second.closeSync();
  });
});
