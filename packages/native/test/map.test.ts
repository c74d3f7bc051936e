import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { NativeFile } from '../src/index.js';
import { bytes, tempDir, thrown } from './helpers.js';

function fileWith(data: Buffer): NativeFile {
  const path = join(tempDir(), 'mapped.bin');
  writeFileSync(path, data);
  return NativeFile.open(path, { read: true });
}

describe('mapSync', () => {
  it('maps file content zero-copy at any offset', () => {
    const data = bytes(3 * 4096 + 123, 9);
    const file = fileWith(data);
    const whole = file.mapSync(0, data.length);
    expect(Buffer.isBuffer(whole)).toBe(true);
    expect(whole.equals(data)).toBe(true);
    for (const [offset, length] of [
      [1, 10],
      [4095, 2],
      [4096, 4096],
      [5000, data.length - 5000],
      [data.length - 1, 1],
    ] as const) {
      expect(file.mapSync(offset, length).equals(data.subarray(offset, offset + length))).toBe(true);
    }
    file.closeSync();
  });

  it('sees later writes to the mapped bytes (shared mapping)', () => {
    const path = join(tempDir(), 'live.bin');
    const file = NativeFile.open(path, { create: true });
    file.writeSync(Buffer.from('aaaa'), 0);
    const view = file.mapSync(0, 4);
    file.writeSync(Buffer.from('bb'), 1);
    expect(view.toString()).toBe('abba');
    file.closeSync();
  });

  it('survives close of the file', () => {
    const data = bytes(10_000, 4);
    const file = fileWith(data);
    const view = file.mapSync(100, 9000);
    file.closeSync();
    expect(file.closed).toBe(true);
    expect(view.equals(data.subarray(100, 9100))).toBe(true);
    expect(thrown(() => file.mapSync(0, 1)).code).toBe('ECLOSED');
  });

  it('refuses an empty or out-of-range region with ERANGE', () => {
    const file = fileWith(bytes(100));
    for (const [offset, length] of [
      [0, 0],
      [50, 0],
      [0, 101],
      [100, 1],
      [99, 2],
      [2 ** 40, 1],
    ] as const) {
      const error = thrown(() => file.mapSync(offset, length));
      expect(error.code).toBe('ERANGE');
      expect(error.syscall).toBe('mmap');
      expect(error.path).toBe(file.path);
    }
    file.closeSync();
    const empty = fileWith(Buffer.alloc(0));
    expect(thrown(() => empty.mapSync(0, 1)).code).toBe('ERANGE');
    empty.closeSync();
  });

  it('needs a readable descriptor', () => {
    const path = join(tempDir(), 'wo.bin');
    writeFileSync(path, 'data');
    const file = NativeFile.open(path, { read: false, write: true });
    const error = thrown(() => file.mapSync(0, 4));
    expect(error.code).toBe('EACCES');
    expect(error.syscall).toBe('mmap');
    file.closeSync();
  });
});

describe('mapping lifetime (in a child process)', () => {
  const CHILD = fileURLToPath(new URL('./fixtures/map-child.cjs', import.meta.url));

  it('the mapping outlives close() and is unmapped when the Buffer is collected', () => {
    const path = join(tempDir(), 'gc.bin');
    writeFileSync(path, bytes(100));
    const result = spawnSync(process.execPath, ['--expose-gc', CHILD, 'unmap', path], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['mapped 10', 'unmapped', '']);
  });

  it('writing through a mapping faults (the pages are read-only)', () => {
    const path = join(tempDir(), 'ro.bin');
    writeFileSync(path, bytes(100));
    const result = spawnSync(process.execPath, [CHILD, 'write', path], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(['SIGSEGV', 'SIGBUS']).toContain(result.signal);
  });
});
