import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InterceptedIo, ioError, nativeIo, renameDurably, writeFileDurably, writeFileDurablySync, type Io, type IoMutation } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/** Records every mutating operation (and whether it ran on the synchronous path); fails the ones `fails` picks. */
class RecordingIo extends InterceptedIo {
  readonly log: string[] = [];
  constructor(private readonly fails: (operation: IoMutation, path: string) => boolean = () => false) {
    super(nativeIo);
  }
  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.log.push(`${operation}Sync ${path.slice(path.lastIndexOf('/') + 1)}`);
    if (this.fails(operation, path)) throw ioError('ENOSPC', operation, path);
    return run();
  }
  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.log.push(`${operation} ${path.slice(path.lastIndexOf('/') + 1)}`);
    if (this.fails(operation, path)) return Promise.reject(ioError('ENOSPC', operation, path));
    return run();
  }
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe('writeFileDurably', () => {
  const tempDir = useTempDir();

  it('writes a temporary exclusively, datasyncs it, renames it and syncs the directory, all syncs off the event loop', async () => {
    const dir = tempDir();
    const io = new RecordingIo();
    await writeFileDurably(io, join(dir, 'f'), [bytes(1, 2), bytes(3)], { temporaryPath: join(dir, 'f.tmp') });
    expect([...readFileSync(join(dir, 'f'))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['f']);
    expect(io.log).toEqual(['open-createSync f.tmp', 'write f.tmp', 'write f.tmp', 'datasync f.tmp', 'renameSync f.tmp', 'sync-dir ' + dir.slice(dir.lastIndexOf('/') + 1)]);
  });

  it('with renameAfter, names the file only once that work is done too', async () => {
    const dir = tempDir();
    const io = new RecordingIo();
    const beside = Promise.resolve().then(() => void io.log.push('beside done'));
    await writeFileDurably(io, join(dir, 'f'), bytes(7), { temporaryPath: join(dir, 'f.tmp'), renameAfter: beside });
    expect([...readFileSync(join(dir, 'f'))]).toEqual([7]);
    expect(io.log.indexOf('beside done')).toBeLessThan(io.log.indexOf('renameSync f.tmp'));
  });

  it('when renameAfter fails, throws its error, removes the temporary and leaves the target untouched', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'old');
    const failure = new Error('the log could not be made durable');
    await expect(writeFileDurably(nativeIo, join(dir, 'f'), bytes(7), { temporaryPath: join(dir, 'f.tmp'), renameAfter: Promise.reject(failure) })).rejects.toBe(failure);
    expect(readdirSync(dir)).toEqual(['f']);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('old');
  });

  it('replaces an existing file whole', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'old contents');
    await writeFileDurably(nativeIo, join(dir, 'f'), bytes(9), { temporaryPath: join(dir, 'f.tmp') });
    expect([...readFileSync(join(dir, 'f'))]).toEqual([9]);
  });

  it('has a synchronous twin with the same steps', () => {
    const dir = tempDir();
    const io = new RecordingIo();
    writeFileDurablySync(io, join(dir, 'f'), bytes(4), { temporaryPath: join(dir, 'f.saving') });
    expect([...readFileSync(join(dir, 'f'))]).toEqual([4]);
    expect(io.log.map((entry) => entry.split(' ')[0])).toEqual(['open-createSync', 'writeSync', 'datasyncSync', 'renameSync', 'sync-dirSync']);
  });

  it('never writes through a leftover temporary or a symlink in its place, and leaves the target alone', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'old');
    writeFileSync(join(dir, 'elsewhere'), 'not ours');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'f.tmp'));
    await expect(writeFileDurably(nativeIo, join(dir, 'f'), bytes(1), { temporaryPath: join(dir, 'f.tmp') })).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('old');
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).toBe('not ours');
  });

  for (const failing of ['write', 'datasync', 'rename'] as const) {
    it(`removes its temporary and leaves the target untouched when ${failing} fails`, async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'f'), 'old');
      const io = new RecordingIo((operation) => operation === failing);
      await expect(writeFileDurably(io, join(dir, 'f'), bytes(1), { temporaryPath: join(dir, 'f.tmp') })).rejects.toMatchObject({ code: 'KEEL_IO', errno: 'ENOSPC' });
      expect(readdirSync(dir)).toEqual(['f']);
      expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('old');
    });
  }

  it('reports a failed directory sync after the rename', async () => {
    const dir = tempDir();
    const io = new RecordingIo((operation) => operation === 'sync-dir');
    await expect(writeFileDurably(io, join(dir, 'f'), bytes(1), { temporaryPath: join(dir, 'f.tmp') })).rejects.toMatchObject({ code: 'KEEL_IO' });
    expect(existsSync(join(dir, 'f.tmp'))).toBe(false);
  });

  it('refuses a temporary outside the target directory or named as the target (a programmer error)', async () => {
    const dir = tempDir();
    await expect(writeFileDurably(nativeIo, join(dir, 'f'), bytes(1), { temporaryPath: join(dir, 'sub', 'f.tmp') })).rejects.toThrow(/must be another name/);
    await expect(writeFileDurably(nativeIo, join(dir, 'f'), bytes(1), { temporaryPath: join(dir, 'f') })).rejects.toThrow(/must be another name/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('renameDurably', () => {
  const tempDir = useTempDir();

  it('renames and syncs the directory in one call off the event loop where the Io has renameDurable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'x');
    const io = new RecordingIo();
    await renameDurably(io, join(dir, 'a'), join(dir, 'b'));
    expect(readdirSync(dir)).toEqual(['b']);
    expect(io.log).toEqual(['rename a']);
  });

  it('renames on the calling thread, then syncs the directory on the async path, where the Io has no renameDurable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'x');
    const calls: string[] = [];
    const io: Io = {
      ...nativeIo,
      renameDurable: undefined,
      rename: (from, to) => {
        calls.push('rename');
        nativeIo.rename(from, to);
      },
      syncDir: (path) => {
        calls.push('syncDir');
        return nativeIo.syncDir(path);
      },
    };
    await renameDurably(io, join(dir, 'a'), join(dir, 'b'));
    expect(readdirSync(dir)).toEqual(['b']);
    expect(calls).toEqual(['rename', 'syncDir']);
  });
});
