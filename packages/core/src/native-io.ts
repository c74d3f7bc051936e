import { watch } from 'node:fs';
import * as native from '@keel/native';
import { badArgument, fromSystemError, isKeelError } from './errors.js';
import { assertPath } from './validate.js';
import { SYNC_THREAD_SPIN_MICROSECONDS_MAX, type Advice, type CopiedBytes, type Io, type IoFile, type IoOpenOptions, type IoStat, type SyncThreadOptions } from './io.js';

/** Runs a native call and turns any OS error it throws into a KeelError. */
function guarded<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromSystemError(error, path);
  }
}

async function guardedAsync<T>(path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromSystemError(error, path);
  }
}

class NativeIoFile implements IoFile {
  readonly path: string;
  readonly #file: native.NativeFile;
  /** Set by `useSyncThread`: this handle's own sync thread, closed with the handle. */
  #syncThread: native.SyncThread | null = null;

  constructor(path: string, file: native.NativeFile) {
    this.path = path;
    this.#file = file;
  }

  get isDirect(): boolean {
    return this.#file.isDirect;
  }

  get directFallback(): string | null {
    return this.#file.directFallback;
  }

  writeSync(data: Uint8Array, position: number): void {
    guarded(this.path, () => this.#file.writeSync(data, position));
  }

  writevSync(buffers: readonly Uint8Array[], position: number): void {
    guarded(this.path, () => this.#file.writevSync(buffers as Uint8Array[], position));
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    await guardedAsync(this.path, () => this.#file.write(data, position));
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    await guardedAsync(this.path, () => this.#file.writev(buffers as Uint8Array[], position));
  }

  readSync(into: Uint8Array, position: number): number {
    return guarded(this.path, () => this.#file.readSync(into, position));
  }

  read(into: Uint8Array, position: number): Promise<number> {
    return guardedAsync(this.path, () => this.#file.read(into, position));
  }

  sizeSync(): number {
    return guarded(this.path, () => this.#file.sizeSync());
  }

  setLengthSync(length: number): void {
    guarded(this.path, () => this.#file.setLengthSync(length));
  }

  datasyncSync(): void {
    guarded(this.path, () => this.#file.datasyncSync());
  }

  writeDatasyncSync(data: Uint8Array, position: number): void {
    guarded(this.path, () => this.#file.writeDatasyncSync(data, position));
  }

  datasync(): Promise<void> {
    const thread = this.#syncThread;
    return guardedAsync(this.path, () => (thread === null ? this.#file.datasync() : thread.datasync(this.#file)));
  }

  fsync(): Promise<void> {
    const thread = this.#syncThread;
    return guardedAsync(this.path, () => (thread === null ? this.#file.fsync() : thread.fsync(this.#file)));
  }

  useSyncThread(options: SyncThreadOptions = {}): boolean {
    const spinMicroseconds = options.spinMicroseconds ?? 0;
    if (!Number.isInteger(spinMicroseconds) || spinMicroseconds < 0 || spinMicroseconds > SYNC_THREAD_SPIN_MICROSECONDS_MAX) {
      throw badArgument(`spinMicroseconds must be an integer in [0, ${SYNC_THREAD_SPIN_MICROSECONDS_MAX}]`);
    }
    if (this.#file.closed) return false;
    try {
      this.#syncThread ??= new native.SyncThread({ spinMicroseconds });
    } catch {
      // No thread to be had (the process is at its thread limit): the threadpool still syncs.
      return false;
    }
    return true;
  }

  preallocateSync(offset: number, length: number): boolean {
    return guarded(this.path, () => this.#file.preallocateSync(offset, length));
  }

  adviseSync(offset: number, length: number, advice: Advice): void {
    guarded(this.path, () => this.#file.adviseSync(offset, length, advice));
  }

  mapSync(offset: number, length: number): Uint8Array {
    return guarded(this.path, () => this.#file.mapSync(offset, length));
  }

  closeSync(): void {
    // Syncs already asked for still run (they hold the descriptor open until they finish).
    this.#syncThread?.close();
    this.#syncThread = null;
    guarded(this.path, () => this.#file.closeSync());
  }

  async copyRangeFrom(source: IoFile, sourcePosition: number, length: number, position: number): Promise<CopiedBytes | null> {
    const backing = source.backingFile?.(sourcePosition, length) ?? null;
    if (!(backing instanceof NativeIoFile)) return null;
    return guardedAsync(this.path, () => this.#file.copyRangeFrom(backing.#file, sourcePosition, length, position));
  }

  backingFile(): IoFile {
    return this;
  }
}

function openNative(path: string, options: IoOpenOptions): IoFile {
  const create = options.create === true || options.createNew === true;
  const file = guarded(path, () =>
    native.NativeFile.open(path, {
      read: true,
      write: options.write === true || create || options.truncate === true,
      create,
      createNew: options.createNew === true,
      truncate: options.truncate === true,
      lock: options.lock === true,
      direct: options.direct === true,
    }),
  );
  return new NativeIoFile(path, file);
}

/**
 * Opens, creating the file when it is missing — exclusively (O_EXCL), because O_CREAT
 * alone follows a dangling symlink planted where the file belongs and creates its target,
 * wherever that is. When the exclusive create finds something there after all, either
 * another process created the file first (it opens) or a dangling symlink is in its
 * place (the open fails with ENOENT, and nothing was created).
 */
function openCreating(path: string, options: IoOpenOptions): IoFile {
  if (guarded(path, () => native.statSync(path)) !== null) return openNative(path, options);
  try {
    return openNative(path, { ...options, createNew: true });
  } catch (error) {
    if (!isKeelError(error) || error.errno !== 'EEXIST') throw error;
  }
  return openNative(path, { ...options, create: false, write: true });
}

/** The default Io: real files through @keel/native. Paths are checked before they reach the OS (a NUL byte is KEEL_BAD_ARGUMENT, not EINVAL). */
export const nativeIo: Io = {
  watch(path: string, onChange: () => void): { close(): void } {
    assertPath(path);
    try {
      // Not persistent: a follower waiting for a writer must not keep the process alive on its own.
      const watcher = watch(path, { persistent: false }, () => onChange());
      watcher.on('error', () => undefined);
      return watcher;
    } catch {
      // No notifications for this path here (or too many watches): the caller's poll still runs.
      return { close: () => undefined };
    }
  },
  open(path: string, options: IoOpenOptions = {}): IoFile {
    assertPath(path);
    if (options.create === true && options.createNew !== true) return openCreating(path, options);
    return openNative(path, options);
  },
  stat(path: string): IoStat | null {
    assertPath(path);
    return guarded(path, () => native.statSync(path));
  },
  list(dir: string): string[] {
    assertPath(dir);
    return guarded(dir, () => native.listDirSync(dir));
  },
  mkdir(dir: string): void {
    assertPath(dir);
    guarded(dir, () => native.createDirSync(dir, true));
  },
  remove(path: string): void {
    assertPath(path);
    guarded(path, () => native.removeFileSync(path));
  },
  removeAsync(path: string): Promise<void> {
    assertPath(path);
    return guardedAsync(path, () => native.removeFile(path));
  },
  rename(from: string, to: string): void {
    assertPath(from);
    assertPath(to);
    guarded(from, () => native.renameSync(from, to));
  },
  renameDurable(from: string, to: string): Promise<void> {
    assertPath(from);
    assertPath(to);
    return guardedAsync(from, () => native.renameDurable(from, to));
  },
  syncDir(dir: string): Promise<void> {
    assertPath(dir);
    return guardedAsync(dir, () => native.syncDir(dir));
  },
  syncDirSync(dir: string): void {
    assertPath(dir);
    guarded(dir, () => native.syncDirSync(dir));
  },
};
