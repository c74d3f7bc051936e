import { readFileSync, writeFileSync, statSync as nodeStat } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { NativeFile } from '../src/index.js';
import { bytes, rejected, tempDir, thrown } from './helpers.js';

function openNew(name = 'data.bin'): NativeFile {
  return NativeFile.open(join(tempDir(), name), { read: true, write: true, create: true });
}

describe('NativeFile.open', () => {
  it('opens, reports its path and state, and closes', () => {
    const path = join(tempDir(), 'a.bin');
    const file = NativeFile.open(path, { create: true });
    expect(file.path).toBe(path);
    expect(file.isDirect).toBe(false);
    expect(file.directFallback).toBeNull();
    expect(file.closed).toBe(false);
    expect(file).toBeInstanceOf(NativeFile);
    file.closeSync();
    expect(file.closed).toBe(true);
  });

  it('throws ENOENT with syscall and path for a missing directory', () => {
    const path = join(tempDir(), 'missing', 'x.bin');
    const error = thrown(() => NativeFile.open(path, { create: true }));
    expect(error.code).toBe('ENOENT');
    expect(error.errno).toBe(2);
    expect(error.syscall).toBe('open');
    expect(error.path).toBe(path);
    expect(error.message).toBe(`ENOENT: no such file or directory, open '${path}'`);
  });

  it('throws ENOENT for a missing file without create', () => {
    const path = join(tempDir(), 'nope.bin');
    expect(thrown(() => NativeFile.open(path, { read: true })).code).toBe('ENOENT');
  });

  it('createNew fails with EEXIST when the file exists', () => {
    const path = join(tempDir(), 'exists.bin');
    writeFileSync(path, 'x');
    const error = thrown(() => NativeFile.open(path, { createNew: true }));
    expect(error.code).toBe('EEXIST');
    expect(error.syscall).toBe('open');
    const fresh = NativeFile.open(join(tempDir(), 'fresh.bin'), { createNew: true });
    fresh.closeSync();
  });

  it('truncate empties an existing file', () => {
    const path = join(tempDir(), 't.bin');
    writeFileSync(path, 'hello');
    const file = NativeFile.open(path, { write: true, truncate: true });
    expect(file.sizeSync()).toBe(0);
    file.closeSync();
  });

  it('read: false gives a write-only descriptor (reads fail with EBADF)', () => {
    const path = join(tempDir(), 'w.bin');
    const file = NativeFile.open(path, { read: false, write: true, create: true });
    file.writeSync(Buffer.from('abc'), 0);
    const error = thrown(() => file.readSync(Buffer.alloc(3), 0));
    expect(error.code).toBe('EBADF');
    expect(error.syscall).toBe('pread');
    file.closeSync();
  });

  it('writeDatasyncSync writes at the position and syncs in one call; a refused write is reported as the pwrite', () => {
    const path = join(tempDir(), 'wd.bin');
    const file = NativeFile.open(path, { create: true });
    expect(file.writeDatasyncSync(Buffer.from('abc'), 2)).toBe(3);
    expect([...readFileSync(path)]).toEqual([0, 0, 97, 98, 99]);
    file.closeSync();
    const readOnly = NativeFile.open(path, {});
    const error = thrown(() => readOnly.writeDatasyncSync(Buffer.from('x'), 0));
    expect(error.code).toBe('EBADF');
    expect(error.syscall).toBe('pwrite');
    readOnly.closeSync();
    expect(readFileSync(path).length).toBe(5);
  });

  it('a read-only descriptor refuses writes with EBADF', () => {
    const path = join(tempDir(), 'r.bin');
    writeFileSync(path, 'abc');
    const file = NativeFile.open(path, {});
    const error = thrown(() => file.writeSync(Buffer.from('x'), 0));
    expect(error.code).toBe('EBADF');
    expect(error.syscall).toBe('pwrite');
    expect(error.path).toBe(path);
    file.closeSync();
  });

  it('cannot be constructed with new', () => {
    const Constructor = NativeFile as unknown as new () => unknown;
    expect(() => new Constructor()).toThrow();
  });
});

describe('write and read', () => {
  it('writeSync writes at positions and readSync reads them back', () => {
    const file = openNew();
    expect(file.writeSync(Buffer.from('hello'), 0)).toBe(5);
    expect(file.writeSync(new Uint8Array([33, 33]), 5)).toBe(2);
    const into = Buffer.alloc(7);
    expect(file.readSync(into, 0)).toBe(7);
    expect(into.toString()).toBe('hello!!');
    expect(readFileSync(file.path, 'utf8')).toBe('hello!!');
    file.closeSync();
  });

  it('honours byteOffset of subarray views on both sides', () => {
    const file = openNew();
    const backing = Buffer.from('xxABCDxx');
    file.writeSync(backing.subarray(2, 6), 10);
    const into = Buffer.alloc(8, '.');
    expect(file.readSync(into.subarray(1, 5), 10)).toBe(4);
    expect(into.toString()).toBe('.ABCD...');
    expect(file.sizeSync()).toBe(14);
    file.closeSync();
  });

  it('readSync stops at EOF and returns a short count', () => {
    const file = openNew();
    file.writeSync(bytes(100), 0);
    const into = Buffer.alloc(64, 0xee);
    expect(file.readSync(into, 60)).toBe(40);
    expect(into.subarray(0, 40)).toEqual(bytes(100).subarray(60));
    expect(into[40]).toBe(0xee);
    expect(file.readSync(into, 100)).toBe(0);
    expect(file.readSync(into, 5000)).toBe(0);
    file.closeSync();
  });

  it('writes and reads large buffers completely', () => {
    const file = openNew();
    const data = bytes(8 * 1024 * 1024 + 17, 7);
    expect(file.writeSync(data, 3)).toBe(data.length);
    const into = Buffer.alloc(data.length);
    expect(file.readSync(into, 3)).toBe(data.length);
    expect(into.equals(data)).toBe(true);
    file.closeSync();
  });

  it('empty writes and reads are no-ops', () => {
    const file = openNew();
    expect(file.writeSync(new Uint8Array(0), 0)).toBe(0);
    expect(file.readSync(new Uint8Array(0), 0)).toBe(0);
    expect(file.writevSync([], 0)).toBe(0);
    expect(file.sizeSync()).toBe(0);
    file.closeSync();
  });

  it('async write/read run on the threadpool and keep the buffers alive', async () => {
    const file = openNew();
    const pending: Promise<number>[] = [];
    for (let index = 0; index < 32; index += 1) {
      pending.push(file.write(bytes(4096, index), index * 4096));
    }
    expect(await Promise.all(pending)).toEqual(new Array(32).fill(4096));
    const into = Buffer.alloc(4096 * 32);
    expect(await file.read(into, 0)).toBe(into.length);
    for (let index = 0; index < 32; index += 1) {
      expect(into.subarray(index * 4096, (index + 1) * 4096).equals(bytes(4096, index))).toBe(true);
    }
    expect(await file.read(Buffer.alloc(10), into.length - 4)).toBe(4);
    await file.close();
    expect(file.closed).toBe(true);
  });

  it('rejects negative, fractional and unsafe positions with EINVAL', async () => {
    const file = openNew();
    for (const position of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      const error = thrown(() => file.writeSync(Buffer.from('x'), position));
      expect(error.code).toBe('EINVAL');
      expect(error.syscall).toBe('pwrite');
      expect(error.path).toBe(file.path);
    }
    expect(thrown(() => file.readSync(Buffer.alloc(1), -5)).code).toBe('EINVAL');
    expect(thrown(() => file.setLengthSync(0.5)).code).toBe('EINVAL');
    expect(thrown(() => file.mapSync(-1, 1)).code).toBe('EINVAL');
    expect(thrown(() => file.preallocateSync(0, -1)).code).toBe('EINVAL');
    expect(thrown(() => file.write(Buffer.from('x'), -1)).code).toBe('EINVAL');
    expect(file.sizeSync()).toBe(0);
    file.closeSync();
  });
});

describe('writev', () => {
  it('writes many small buffers (more than IOV_MAX) in order', () => {
    const file = openNew();
    const buffers: Uint8Array[] = [];
    for (let index = 0; index < 3000; index += 1) {
      buffers.push(bytes((index % 13) + 1, index));
    }
    buffers.splice(100, 0, new Uint8Array(0));
    const expected = Buffer.concat(buffers);
    expect(file.writevSync(buffers, 5)).toBe(expected.length);
    const into = Buffer.alloc(expected.length);
    expect(file.readSync(into, 5)).toBe(expected.length);
    expect(into.equals(expected)).toBe(true);
    file.closeSync();
  });

  it('async writev with > 1024 buffers, including large ones', async () => {
    const file = openNew();
    const buffers: Uint8Array[] = [];
    for (let index = 0; index < 2100; index += 1) {
      buffers.push(index % 500 === 0 ? bytes(1 << 20, index) : bytes(33, index));
    }
    const expected = Buffer.concat(buffers);
    expect(await file.writev(buffers, 0)).toBe(expected.length);
    expect(readFileSync(file.path).equals(expected)).toBe(true);
    await file.close();
  });

  it('writev of subarray views writes only the views', () => {
    const file = openNew();
    const backing = Buffer.from('0123456789');
    expect(file.writevSync([backing.subarray(1, 3), backing.subarray(7)], 0)).toBe(5);
    expect(readFileSync(file.path, 'utf8')).toBe('12789');
    file.closeSync();
  });
});

describe('size, length, sync, preallocate, advise', () => {
  it('setLengthSync grows and shrinks; sizeSync follows', () => {
    const file = openNew();
    file.setLengthSync(10_000);
    expect(file.sizeSync()).toBe(10_000);
    expect(nodeStat(file.path).size).toBe(10_000);
    file.setLengthSync(3);
    expect(file.sizeSync()).toBe(3);
    file.closeSync();
  });

  it('sync variants succeed, async ones resolve to undefined', async () => {
    const file = openNew();
    file.writeSync(Buffer.from('durable'), 0);
    file.datasyncSync();
    file.fsyncSync();
    await expect(file.datasync()).resolves.toBeUndefined();
    await expect(file.fsync()).resolves.toBeUndefined();
    file.closeSync();
  });

  it('preallocate keeps the size and reports support', () => {
    const file = openNew();
    file.writeSync(Buffer.from('abc'), 0);
    const supported = file.preallocateSync(0, 1 << 20);
    expect(typeof supported).toBe('boolean');
    expect(file.sizeSync()).toBe(3);
    if (supported) {
      expect(nodeStat(file.path).blocks * 512).toBeGreaterThanOrEqual(1 << 20);
    }
    expect(file.preallocateSync(0, 0)).toBe(true);
    file.closeSync();
  });

  it('advise accepts every advice and rejects unknown ones with EINVAL', () => {
    const file = openNew();
    file.writeSync(bytes(8192), 0);
    for (const advice of ['normal', 'sequential', 'random', 'willneed', 'dontneed'] as const) {
      file.adviseSync(0, 0, advice);
      file.adviseSync(4096, 4096, advice);
    }
    const error = thrown(() => file.adviseSync(0, 0, 'sometimes' as never));
    expect(error.code).toBe('EINVAL');
    expect(error.syscall).toBe('fadvise');
    file.closeSync();
  });
});

describe('close', () => {
  it('every operation after close throws ECLOSED', async () => {
    const file = openNew();
    file.closeSync();
    const calls: Array<() => unknown> = [
      () => file.writeSync(Buffer.from('x'), 0),
      () => file.writeDatasyncSync(Buffer.from('x'), 0),
      () => file.writevSync([Buffer.from('x')], 0),
      () => file.readSync(Buffer.alloc(1), 0),
      () => file.sizeSync(),
      () => file.setLengthSync(0),
      () => file.datasyncSync(),
      () => file.fsyncSync(),
      () => file.preallocateSync(0, 1),
      () => file.adviseSync(0, 0, 'normal'),
      () => file.mapSync(0, 1),
      () => file.closeSync(),
      () => file.write(Buffer.from('x'), 0),
      () => file.writev([Buffer.from('x')], 0),
      () => file.read(Buffer.alloc(1), 0),
      () => file.datasync(),
      () => file.fsync(),
      () => file.close(),
    ];
    for (const call of calls) {
      const error = thrown(call);
      expect(error.code).toBe('ECLOSED');
      expect(error.path).toBe(file.path);
      expect(typeof error.syscall).toBe('string');
    }
  });

  it('async close then close again throws ECLOSED', async () => {
    const file = openNew();
    await file.close();
    expect(thrown(() => file.closeSync()).code).toBe('ECLOSED');
  });

  it('close while an async write is in flight lets the write finish', async () => {
    const file = openNew();
    const data = bytes(4 << 20, 3);
    const writing = file.write(data, 0);
    file.closeSync();
    expect(await writing).toBe(data.length);
    expect(readFileSync(file.path).equals(data)).toBe(true);
    const error = await rejected(Promise.resolve().then(() => file.fsync()));
    expect(error.code).toBe('ECLOSED');
  });
});
