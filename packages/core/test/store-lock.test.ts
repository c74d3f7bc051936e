import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockStoreDirectory, nativeIo } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

describe('lockStoreDirectory', () => {
  const tempDir = useTempDir();

  it('still refuses a second holder after the lock file was unlinked, and releases both on close', () => {
    const dir = tempDir();
    const first = lockStoreDirectory(nativeIo, dir, 'store.lock');
    rmSync(join(dir, 'store.lock'));
    expect(() => lockStoreDirectory(nativeIo, dir, 'store.lock')).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    first.closeSync();
    const second = lockStoreDirectory(nativeIo, dir, 'store.lock');
    expect(() => lockStoreDirectory(nativeIo, dir, 'store.lock')).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    second.closeSync();
  });
});
