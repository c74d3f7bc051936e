import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  createDirSync,
  listDirSync,
  removeFileSync,
  renameDurable,
  renameDurableSync,
  renameSync,
  statSync,
  syncDir,
  syncDirSync,
} from '../src/index.js';
import { rejected, tempDir, thrown } from './helpers.js';

describe('directories', () => {
  it('syncDir syncs a directory, sync and async', async () => {
    const directory = tempDir();
    syncDirSync(directory);
    await expect(syncDir(directory)).resolves.toBeUndefined();
  });

  it('syncDir of a missing directory reports ENOENT with syscall and path', async () => {
    const missing = join(tempDir(), 'missing');
    const error = thrown(() => syncDirSync(missing));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing, errno: 2 });
    const asyncError = await rejected(syncDir(missing));
    expect(asyncError).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    expect(asyncError.message).toBe(`ENOENT: no such file or directory, open '${missing}'`);
  });

  it('syncDir of a file is ENOTDIR', () => {
    const path = join(tempDir(), 'f');
    writeFileSync(path, '');
    expect(thrown(() => syncDirSync(path)).code).toBe('ENOTDIR');
  });

  it('createDirSync, plain and recursive', () => {
    const root = tempDir();
    createDirSync(join(root, 'a'), false);
    expect(statSync(join(root, 'a'))?.isDirectory).toBe(true);
    const exists = thrown(() => createDirSync(join(root, 'a'), false));
    expect(exists).toMatchObject({ code: 'EEXIST', syscall: 'mkdir', path: join(root, 'a') });
    const missingParent = thrown(() => createDirSync(join(root, 'x', 'y'), false));
    expect(missingParent.code).toBe('ENOENT');
    createDirSync(join(root, 'x', 'y', 'z'), true);
    createDirSync(join(root, 'x', 'y', 'z'), true);
    expect(statSync(join(root, 'x', 'y', 'z'))?.isDirectory).toBe(true);
  });

  it('listDirSync returns sorted names without . and ..', () => {
    const root = tempDir();
    for (const name of ['b.log', 'a.log', '10.seg', '2.seg', 'Z']) writeFileSync(join(root, name), '');
    mkdirSync(join(root, 'sub'));
    expect(listDirSync(root)).toEqual(['10.seg', '2.seg', 'Z', 'a.log', 'b.log', 'sub']);
    expect(listDirSync(join(root, 'sub'))).toEqual([]);
    expect(thrown(() => listDirSync(join(root, 'nope')))).toMatchObject({ code: 'ENOENT', syscall: 'scandir' });
  });
});

describe('files by path', () => {
  it('statSync reports size and kind, null when missing', () => {
    const root = tempDir();
    writeFileSync(join(root, 'f'), 'hello');
    expect(statSync(join(root, 'f'))).toEqual({ size: 5, isFile: true, isDirectory: false });
    expect(statSync(root)).toMatchObject({ isFile: false, isDirectory: true });
    expect(statSync(join(root, 'missing'))).toBeNull();
    symlinkSync(join(root, 'f'), join(root, 'link'));
    expect(statSync(join(root, 'link'))).toMatchObject({ size: 5, isFile: true });
    expect(thrown(() => statSync(join(root, 'f', 'below'))).code).toBe('ENOTDIR');
  });

  it('removeFileSync unlinks; a missing file is ENOENT', () => {
    const root = tempDir();
    writeFileSync(join(root, 'f'), 'x');
    removeFileSync(join(root, 'f'));
    expect(existsSync(join(root, 'f'))).toBe(false);
    expect(thrown(() => removeFileSync(join(root, 'f')))).toMatchObject({
      code: 'ENOENT',
      syscall: 'unlink',
      path: join(root, 'f'),
    });
  });

  it('renameSync replaces the destination', () => {
    const root = tempDir();
    writeFileSync(join(root, 'a'), 'new');
    writeFileSync(join(root, 'b'), 'old');
    renameSync(join(root, 'a'), join(root, 'b'));
    expect(readFileSync(join(root, 'b'), 'utf8')).toBe('new');
    expect(existsSync(join(root, 'a'))).toBe(false);
  });

  it('rename errors carry path and dest', () => {
    const root = tempDir();
    const from = join(root, 'missing');
    const to = join(root, 'to');
    const error = thrown(() => renameSync(from, to));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'rename', path: from, dest: to });
    expect(error.message).toBe(`ENOENT: no such file or directory, rename '${from}' -> '${to}'`);
  });

  it('renameDurable within and across directories, sync and async', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'a.tmp'), 'one');
    renameDurableSync(join(root, 'a.tmp'), join(root, 'a'));
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('one');
    await renameDurable(join(root, 'a'), join(root, 'other', 'a'));
    expect(readFileSync(join(root, 'other', 'a'), 'utf8')).toBe('one');
    expect(listDirSync(root)).toEqual(['other']);
    const error = await rejected(renameDurable(join(root, 'gone'), join(root, 'x')));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'rename' });
  });

  it('relative paths work (parent directory is ".")', () => {
    const root = tempDir();
    const previous = process.cwd();
    try {
      process.chdir(root);
      writeFileSync('rel.tmp', 'x');
      renameDurableSync('rel.tmp', 'rel');
      expect(listDirSync('.')).toEqual(['rel']);
    } finally {
      process.chdir(previous);
    }
  });

  it('a path with a NUL byte is EINVAL', () => {
    expect(thrown(() => syncDirSync('/tmp/a\0b')).code).toBe('EINVAL');
    expect(thrown(() => removeFileSync('/tmp/a\0b')).code).toBe('EINVAL');
  });
});
