import { ioError, nativeIo, type Io, type IoFile, type IoOpenOptions } from '@keel/core';

/** Which operation an injected failure hits. */
export type MutatingOperation = 'open-create' | 'write' | 'set-length' | 'datasync' | 'remove' | 'rename' | 'sync-dir' | 'mkdir';

/**
 * An Io over the native one that counts mutating operations and, once `failAfter` of
 * them have succeeded, fails every later one with EIO (a crash from the store's point of
 * view: nothing it does afterwards reaches disk). `failOnly` narrows the failures to
 * some operations (e.g. only datasync) while everything else keeps working.
 */
export class FailingIo implements Io {
  operations = 0;
  failAfter = Number.POSITIVE_INFINITY;
  failOnly: ReadonlySet<MutatingOperation> | null = null;
  /** Every mutating operation that went through, in order. */
  readonly log: Array<{ operation: MutatingOperation; path: string }> = [];
  readonly #base: Io;

  constructor(base: Io = nativeIo) {
    this.#base = base;
  }

  /** Counts one operation and throws when it is past the limit. */
  step(operation: MutatingOperation, path: string): void {
    if (this.failOnly !== null && !this.failOnly.has(operation)) {
      this.log.push({ operation, path });
      return;
    }
    if (this.operations >= this.failAfter) throw ioError('EIO', operation, path);
    this.operations++;
    this.log.push({ operation, path });
  }

  open(path: string, options: IoOpenOptions = {}): IoFile {
    if (options.create || options.createNew || options.truncate) this.step('open-create', path);
    return wrapFile(this, this.#base.open(path, options));
  }
  stat = (path: string) => this.#base.stat(path);
  list = (dir: string) => this.#base.list(dir);
  mkdir(dir: string): void {
    this.step('mkdir', dir);
    this.#base.mkdir(dir);
  }
  remove(path: string): void {
    this.step('remove', path);
    this.#base.remove(path);
  }
  rename(from: string, to: string): void {
    this.step('rename', from);
    this.#base.rename(from, to);
  }
  async syncDir(dir: string): Promise<void> {
    this.step('sync-dir', dir);
    await this.#base.syncDir(dir);
  }
  syncDirSync(dir: string): void {
    this.step('sync-dir', dir);
    this.#base.syncDirSync(dir);
  }
}

function wrapFile(io: FailingIo, file: IoFile): IoFile {
  const path = file.path;
  return {
    path,
    get isDirect() {
      return file.isDirect;
    },
    get directFallback() {
      return file.directFallback;
    },
    writeSync: (data, position) => (io.step('write', path), file.writeSync(data, position)),
    writevSync: (buffers, position) => (io.step('write', path), file.writevSync(buffers, position)),
    write: async (data, position) => (io.step('write', path), file.write(data, position)),
    writev: async (buffers, position) => (io.step('write', path), file.writev(buffers, position)),
    readSync: (into, position) => file.readSync(into, position),
    read: (into, position) => file.read(into, position),
    sizeSync: () => file.sizeSync(),
    setLengthSync: (length) => (io.step('set-length', path), file.setLengthSync(length)),
    datasyncSync: () => (io.step('datasync', path), file.datasyncSync()),
    datasync: async () => (io.step('datasync', path), file.datasync()),
    fsync: async () => (io.step('datasync', path), file.fsync()),
    preallocateSync: (offset, length) => file.preallocateSync(offset, length),
    adviseSync: (offset, length, advice) => file.adviseSync(offset, length, advice),
    mapSync: (offset, length) => file.mapSync(offset, length),
    closeSync: () => file.closeSync(),
  };
}
