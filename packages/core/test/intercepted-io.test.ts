import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuardedIo, InterceptedIo, ioError, nativeIo, removeIfPresentAsync, type Io, type IoMutation } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/** Records every mutation and fails the ones named in `failing`. */
class RecordingIo extends InterceptedIo {
  readonly seen: string[] = [];
  failing = new Set<IoMutation>();

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.#note(operation, path);
    return run();
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.#note(operation, path);
    return run();
  }

  #note(operation: IoMutation, path: string): void {
    this.seen.push(`${operation} ${path.slice(path.lastIndexOf('/') + 1)}`);
    if (this.failing.has(operation)) throw ioError('EIO', operation, path);
  }
}

describe('InterceptedIo', () => {
  const tempDir = useTempDir();

  it('passes every mutating operation through its hooks, and nothing else', async () => {
    const dir = tempDir();
    const io = new RecordingIo(nativeIo);
    io.mkdir(join(dir, 'sub'));
    const file = io.open(join(dir, 'a'), { create: true });
    file.writeSync(new Uint8Array([1, 2]), 0);
    await file.write(new Uint8Array([3]), 2);
    file.writevSync([new Uint8Array([4])], 3);
    await file.writev([new Uint8Array([5])], 4);
    file.setLengthSync(5);
    file.datasyncSync();
    await file.datasync();
    await file.fsync();
    const into = new Uint8Array(5);
    expect(file.readSync(into, 0)).toBe(5);
    expect(await file.read(into, 0)).toBe(5);
    expect(file.sizeSync()).toBe(5);
    expect([...file.mapSync(0, 5)]).toEqual([1, 2, 3, 4, 5]);
    file.closeSync();
    io.open(join(dir, 'a')).closeSync();
    expect(io.stat(join(dir, 'a'))?.size).toBe(5);
    expect(io.list(dir)).toEqual(['a', 'sub']);
    io.rename(join(dir, 'a'), join(dir, 'b'));
    await io.syncDir(dir);
    io.syncDirSync(dir);
    io.remove(join(dir, 'b'));
    expect(io.seen).toEqual([
      'mkdir sub', 'open-create a', 'write a', 'write a', 'write a', 'write a', 'set-length a',
      'datasync a', 'datasync a', 'fsync a', 'rename a', `sync-dir ${dir.slice(dir.lastIndexOf('/') + 1)}`,
      `sync-dir ${dir.slice(dir.lastIndexOf('/') + 1)}`, 'remove b',
    ]);
  });

  it('removes off the event loop through its hook, or with the inner Io\'s remove when it has no removeAsync', async () => {
    const dir = tempDir();
    const io = new RecordingIo(nativeIo);
    for (const name of ['a', 'b']) io.open(join(dir, name), { create: true }).closeSync();
    await io.removeAsync(join(dir, 'a'));
    const { removeAsync: _none, ...withoutRemoveAsync } = nativeIo;
    const syncOnly = new RecordingIo(withoutRemoveAsync as Io);
    await syncOnly.removeAsync(join(dir, 'b'));
    expect([io.seen, syncOnly.seen]).toEqual([['open-create a', 'open-create b', 'remove a'], ['remove b']]);
    expect(io.list(dir)).toEqual([]);
    await expect(io.removeAsync(join(dir, 'a'))).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
  });

  it('a missing file removed asynchronously does not poison a guarded Io, another failure does', async () => {
    const dir = tempDir();
    const failures: unknown[] = [];
    const guarded = new GuardedIo(nativeIo);
    guarded.arm((error) => failures.push(error));
    await removeIfPresentAsync(guarded, join(dir, 'missing'));
    expect(failures).toEqual([]);
    guarded.mkdir(join(dir, 'sub'));
    guarded.open(join(dir, 'sub', 'file'), { create: true }).closeSync();
    await expect(guarded.removeAsync(join(dir, 'sub'))).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(failures).toHaveLength(1);
  });

  it('a write joined with its datasync is seen as the two operations it is, unless the Io joins them (a guarded Io)', () => {
    const dir = tempDir();
    const recording = new RecordingIo(nativeIo);
    const split = recording.open(join(dir, 'a'), { create: true });
    recording.seen.length = 0;
    split.writeDatasyncSync?.(new Uint8Array([1, 2]), 0);
    expect(recording.seen).toEqual(['write a', 'datasync a']);
    recording.failing.add('datasync');
    expect(() => split.writeDatasyncSync?.(new Uint8Array([3]), 2)).toThrow(expect.objectContaining({ code: 'KEEL_IO' }));
    expect(split.sizeSync()).toBe(3);
    split.closeSync();
    // A guarded Io over the recording one still lets the recording one see both.
    const failures: unknown[] = [];
    const guarded = new GuardedIo(recording);
    guarded.arm((error) => failures.push(error));
    const throughGuard = guarded.open(join(dir, 'a'), { write: true });
    recording.seen.length = 0;
    expect(() => throughGuard.writeDatasyncSync?.(new Uint8Array([4]), 3)).toThrow(expect.objectContaining({ code: 'KEEL_IO' }));
    expect(recording.seen).toEqual(['write a', 'datasync a']);
    expect(failures).toHaveLength(1);
    throughGuard.closeSync();
    // Straight over the native Io, the guarded file makes one call, and its failure poisons.
    const direct = new GuardedIo(nativeIo);
    const directFailures: unknown[] = [];
    direct.arm((error) => directFailures.push(error));
    const file = direct.open(join(dir, 'a'), { write: true });
    file.writeDatasyncSync?.(new Uint8Array([5]), 4);
    expect(file.sizeSync()).toBe(5);
    const readOnly = direct.open(join(dir, 'a'));
    expect(() => readOnly.writeDatasyncSync?.(new Uint8Array([6]), 5)).toThrow(expect.objectContaining({ code: 'KEEL_IO' }));
    expect(directFailures).toHaveLength(1);
    file.closeSync();
    readOnly.closeSync();
  });

  it('a failing hook keeps the operation from reaching the disk', async () => {
    const dir = tempDir();
    const io = new RecordingIo(nativeIo);
    const file = io.open(join(dir, 'a'), { create: true });
    io.failing.add('write');
    expect(() => file.writeSync(new Uint8Array([1]), 0)).toThrow(expect.objectContaining({ code: 'KEEL_IO', errno: 'EIO' }));
    await expect(file.write(new Uint8Array([1]), 0)).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(file.sizeSync()).toBe(0);
    file.closeSync();
  });

  it('a copy into a file is a write to it: intercepted, and able to fail; the source is reached through the wrapper', async () => {
    const dir = tempDir();
    const io = new RecordingIo(nativeIo);
    const source = io.open(join(dir, 'source'), { create: true });
    source.writeSync(new Uint8Array([1, 2, 3, 4]), 0);
    const target = io.open(join(dir, 'target'), { create: true });
    io.seen.length = 0;
    const copied = await target.copyRangeFrom?.(source, 1, 3, 0);
    expect(copied).not.toBeNull();
    expect(io.seen).toEqual(['write target']);
    const into = new Uint8Array(3);
    target.readSync(into, 0);
    expect([...into]).toEqual([2, 3, 4]);
    io.failing.add('write');
    await expect(target.copyRangeFrom?.(source, 0, 4, 0)).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(target.sizeSync()).toBe(3);
    source.closeSync();
    target.closeSync();
  });
});
