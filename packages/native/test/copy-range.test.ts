import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { NativeFile } from '../src/index.js';
import { bytes, rejected, tempDir } from './helpers.js';

function sourceWith(content: Uint8Array, directory = tempDir()): NativeFile {
  const path = join(directory, 'source.bin');
  writeFileSync(path, content);
  return NativeFile.open(path, { read: true });
}

function target(directory = tempDir()): NativeFile {
  return NativeFile.open(join(directory, 'target.bin'), { create: true });
}

describe('NativeFile.copyRangeFrom', () => {
  it('copies a whole file inside the kernel on one file system, never through a buffer', async () => {
    const directory = tempDir();
    const content = bytes(3 * 1024 * 1024 + 123);
    const source = sourceWith(content, directory);
    const copy = target(directory);
    const copied = await copy.copyRangeFrom(source, 0, content.length, 0);
    // Linux ≥ 5.3 copies within one file system with copy_file_range (or a reflink where
    // the file system shares blocks): the last-resort buffer copy is never needed here.
    expect(copied.readWrite).toBe(0);
    expect(copied.reflink + copied.copyFileRange).toBe(content.length);
    copy.datasyncSync();
    expect(readFileSync(copy.path).equals(content)).toBe(true);
    source.closeSync();
    copy.closeSync();
  });

  it('copies any range to any position, byte for byte', async () => {
    const directory = tempDir();
    const content = bytes(256 * 1024, 7);
    const source = sourceWith(content, directory);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: content.length }), fc.nat({ max: content.length }), fc.nat({ max: 300_000 }), async (start, length, position) => {
        const wanted = Math.min(length, content.length - start);
        const copy = NativeFile.open(join(directory, 'target.bin'), { create: true, truncate: true });
        try {
          const copied = await copy.copyRangeFrom(source, start, wanted, position);
          expect(copied.reflink + copied.copyFileRange + copied.readWrite).toBe(wanted);
          const written = readFileSync(copy.path);
          expect(written.length).toBe(wanted === 0 ? 0 : position + wanted);
          expect(written.subarray(position).equals(content.subarray(start, start + wanted))).toBe(true);
        } finally {
          copy.closeSync();
        }
      }),
      { numRuns: 60 },
    );
    source.closeSync();
  });

  it('stops where the source ends and says how much it copied', async () => {
    const content = bytes(10_000);
    const source = sourceWith(content);
    const copy = target();
    const copied = await copy.copyRangeFrom(source, 4_000, 50_000, 0);
    expect(copied.reflink + copied.copyFileRange + copied.readWrite).toBe(6_000);
    expect(statSync(copy.path).size).toBe(6_000);
    source.closeSync();
    copy.closeSync();
  });

  it('copies between two file systems (through a buffer where the kernel will not)', async () => {
    // /dev/shm is a tmpfs on Linux; where it is the same file system as the temp dir the
    // copy simply stays in the kernel. Either way the bytes arrive.
    const content = bytes(2 * 1024 * 1024 + 5, 3);
    const source = sourceWith(content);
    const copy = target(tempDir('/dev/shm'));
    const copied = await copy.copyRangeFrom(source, 0, content.length, 0);
    expect(copied.reflink + copied.copyFileRange + copied.readWrite).toBe(content.length);
    expect(readFileSync(copy.path).equals(content)).toBe(true);
    source.closeSync();
    copy.closeSync();
  });

  it('rejects a closed source or target with ECLOSED and a read-only target with EBADF', async () => {
    const source = sourceWith(bytes(100));
    const copy = target();
    const readOnly = NativeFile.open(source.path, { read: true });
    expect((await rejected(readOnly.copyRangeFrom(source, 0, 100, 0))).code).toBe('EBADF');
    source.closeSync();
    expect(() => copy.copyRangeFrom(source, 0, 100, 0)).toThrow(expect.objectContaining({ code: 'ECLOSED' }));
    copy.closeSync();
    readOnly.closeSync();
  });

  it('refuses a position or length that is not a non-negative safe integer before any syscall', () => {
    const source = sourceWith(bytes(100));
    const copy = target();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => copy.copyRangeFrom(source, bad, 10, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => copy.copyRangeFrom(source, 0, bad, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => copy.copyRangeFrom(source, 0, 10, bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    source.closeSync();
    copy.closeSync();
  });
});
