import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { describe, expect, it } from 'vitest';

import { NativeFile, createDirSync, removeFileSync, syncDirSync, type NativeError } from '../src/index.js';
import { tempDir, thrown } from './helpers.js';

/** Node's own [name, message] for an errno, the table its system errors use. */
function nodeSystemError(errno: number): [string, string] | undefined {
  return getSystemErrorMap().get(-errno);
}

describe('error codes come from Node’s own errno table', () => {
  it('names and describes every error the way Node does', () => {
    const dir = tempDir();
    const file = join(dir, 'file');
    writeFileSync(file, '');
    mkdirSync(join(dir, 'sub'));
    const errors: NativeError[] = [
      thrown(() => syncDirSync(join(dir, 'missing'))), // ENOENT
      thrown(() => syncDirSync(file)), // ENOTDIR
      thrown(() => NativeFile.open(file, { createNew: true })), // EEXIST
      thrown(() => createDirSync(join(file, 'below'), false)), // ENOTDIR from mkdir
      thrown(() => removeFileSync(join(dir, 'sub'))), // EISDIR
      thrown(() => NativeFile.open(join(dir, 'x'.repeat(300)), { create: true })), // ENAMETOOLONG
    ];
    const codes = new Set<string>();
    for (const error of errors) {
      const [name, message] = nodeSystemError(error.errno) ?? [];
      expect(error.code).toBe(name);
      expect(error.message.startsWith(`${name}: ${message}, `)).toBe(true);
      codes.add(error.code);
    }
    expect(codes.size).toBeGreaterThanOrEqual(4);
  });
});
