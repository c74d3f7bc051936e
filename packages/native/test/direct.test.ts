import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { addressOffset, allocAligned, faultInFreshMemory, isAligned, NativeFile } from '../src/index.js';
import { tempDir, thrown } from './helpers.js';

const BLOCK = 4096;

describe('allocAligned', () => {
  it('returns zero-filled buffers aligned as asked', () => {
    for (const alignment of [512, 4096, 65536]) {
      const buffer = allocAligned(3 * BLOCK, alignment);
      expect(buffer.length).toBe(3 * BLOCK);
      expect(isAligned(buffer, alignment)).toBe(true);
      expect(buffer.every((byte) => byte === 0)).toBe(true);
      expect(isAligned(buffer.subarray(1), 2)).toBe(false);
    }
    expect(isAligned(allocAligned(BLOCK), BLOCK)).toBe(true);
    expect(allocAligned(0).length).toBe(0);
    expect(thrown(() => allocAligned(16, 3000)).code).toBe('EINVAL');
  });

  it('finds an aligned window in an ordinary Buffer by subarray', () => {
    const raw = Buffer.alloc(BLOCK * 3);
    let start = 0;
    while (!isAligned(raw.subarray(start), BLOCK)) start += 1;
    expect(start).toBeLessThan(BLOCK);
    expect(isAligned(raw.subarray(start, start + BLOCK), BLOCK)).toBe(true);
  });

  it('tells how far past an alignment any byte of a buffer sits', () => {
    const raw = Buffer.alloc(BLOCK * 3);
    const base = addressOffset(raw, BLOCK);
    for (const at of [0, 1, 15, 16, 4095, 4096, 5000]) {
      const offset = addressOffset(raw.subarray(at), BLOCK);
      expect(offset).toBe((base + at) % BLOCK);
      expect(isAligned(raw.subarray(at), BLOCK)).toBe(offset === 0);
    }
    expect(addressOffset(allocAligned(BLOCK), BLOCK)).toBe(0);
    expect(addressOffset(raw, 0)).toBe(0);
  });
});

describe('O_DIRECT', () => {
  it('falls back where the filesystem refuses it, and says why', () => {
    // procfs files cannot do direct IO on any kernel.
    const file = NativeFile.open('/proc/self/status', { read: true, direct: true });
    expect(file.isDirect).toBe(false);
    expect(file.directFallback).toMatch(/^EINVAL: .*O_DIRECT/);
    const into = Buffer.alloc(64);
    expect(file.readSync(into, 0)).toBeGreaterThan(0);
    file.closeSync();
  });

  it('reports a consistent state on tmpfs (/dev/shm)', () => {
    // tmpfs refused O_DIRECT before Linux 6.6 and accepts it since.
    if (!existsSync('/dev/shm')) return;
    const path = join(tempDir('/dev/shm'), 'direct.bin');
    const file = NativeFile.open(path, { create: true, direct: true });
    if (file.isDirect) {
      expect(file.directFallback).toBeNull();
    } else {
      expect(file.directFallback).toMatch(/O_DIRECT/);
      // Buffered IO works, unaligned included.
      expect(file.writeSync(Buffer.from('abc'), 1)).toBe(3);
    }
    file.closeSync();
  });

  it('without direct there is no fallback to report', () => {
    const file = NativeFile.open('/proc/self/status', { read: true });
    expect(file.isDirect).toBe(false);
    expect(file.directFallback).toBeNull();
    file.closeSync();
  });

  it('createNew with direct on tmpfs still creates exactly once', () => {
    if (!existsSync('/dev/shm')) return;
    const path = join(tempDir('/dev/shm'), 'excl.bin');
    NativeFile.open(path, { createNew: true, direct: true }).closeSync();
    expect(thrown(() => NativeFile.open(path, { createNew: true, direct: true })).code).toBe('EEXIST');
  });

  it('is in effect on the temp directory filesystem when it supports it', () => {
    const path = join(tempDir(), 'direct.bin');
    const file = NativeFile.open(path, { create: true, direct: true });
    if (!file.isDirect) {
      // The filesystem refused: the fallback must say so, and IO is buffered.
      expect(file.directFallback).toEqual(expect.any(String));
      file.closeSync();
      return;
    }
    expect(file.directFallback).toBeNull();
    const data = allocAligned(2 * BLOCK);
    data.fill(0x5a, 0, BLOCK).fill(0xa5, BLOCK);
    expect(file.writeSync(data, 0)).toBe(2 * BLOCK);
    expect(file.writevSync([data.subarray(0, BLOCK), data.subarray(BLOCK)], 2 * BLOCK)).toBe(2 * BLOCK);
    file.datasyncSync();
    const into = allocAligned(4 * BLOCK);
    expect(file.readSync(into, 0)).toBe(4 * BLOCK);
    expect(into.subarray(0, 2 * BLOCK).equals(data)).toBe(true);
    expect(into.subarray(2 * BLOCK).equals(data)).toBe(true);
    // Proof that the kernel really does direct IO: misaligned memory is refused.
    const misaligned = allocAligned(2 * BLOCK).subarray(1, BLOCK + 1);
    const error = thrown(() => file.writeSync(misaligned, 0));
    expect(error.code).toBe('EINVAL');
    expect(error.syscall).toBe('pwrite');
    file.closeSync();
    expect(readFileSync(path).length).toBe(4 * BLOCK);
  });

  it('async direct IO with aligned buffers', async () => {
    const path = join(tempDir(), 'direct-async.bin');
    const file = NativeFile.open(path, { create: true, direct: true });
    const data = allocAligned(BLOCK).fill(7);
    expect(await file.write(data, 0)).toBe(BLOCK);
    const into = allocAligned(BLOCK);
    expect(await file.read(into, 0)).toBe(BLOCK);
    expect(into.equals(data)).toBe(true);
    await file.close();
  });
});

describe('faultInFreshMemory', () => {
  it('touches fresh memory of any size, with or without huge pages asked for, and refuses a length that is not one', () => {
    for (const length of [0, 1, 4097, 5 << 20]) {
      expect(faultInFreshMemory(length, true)).toBeUndefined();
      expect(faultInFreshMemory(length, false)).toBeUndefined();
    }
    expect(() => faultInFreshMemory(-1, false)).toThrow();
    expect(() => faultInFreshMemory(1.5, true)).toThrow();
  });
});
