import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeelError, nativeIo } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

const tempDir = useTempDir('keel-native-io-create-');

describe('nativeIo.open with create', () => {
  // Found by conformance's hostile-links family: every backend created its lock file, a
  // missing index or its journal through a dangling symlink planted in the store.
  it('never creates a file through a dangling symlink in its place', () => {
    const dir = tempDir();
    const target = join(dir, 'outside-target');
    symlinkSync(target, join(dir, 'LOCK'));
    let thrown: unknown;
    try {
      nativeIo.open(join(dir, 'LOCK'), { create: true, lock: true }).closeSync();
    } catch (error) {
      thrown = error;
    }
    expect(isKeelError(thrown)).toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('creates a missing file, and opens an existing one (through a symlink to it too)', () => {
    const dir = tempDir();
    const file = nativeIo.open(join(dir, 'new'), { create: true });
    file.writeSync(Uint8Array.of(1, 2, 3), 0);
    file.closeSync();
    expect([...readFileSync(join(dir, 'new'))]).toEqual([1, 2, 3]);
    writeFileSync(join(dir, 'real'), 'x');
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    const linked = nativeIo.open(join(dir, 'link'), { create: true });
    expect(linked.sizeSync()).toBe(1);
    linked.closeSync();
  });
});
