import type { Advice, CopiedBytes, Io, IoFile, IoOpenOptions, IoStat, SyncThreadOptions } from './io.js';
import { renameDurably } from './durable-file.js';

/** The operations that change what is on disk, named as interceptors see them. */
export type IoMutation = 'open-create' | 'mkdir' | 'remove' | 'rename' | 'sync-dir' | 'write' | 'set-length' | 'datasync' | 'fsync';

/**
 * An Io that forwards to another and passes every mutating operation through
 * `aroundSync` / `aroundAsync`, which a subclass overrides to count, fail, poison or
 * track it. Reads, stats and maps go straight through, so a wrapper costs nothing on the
 * read path. Stores use it to poison themselves the moment any write fails; tests use it
 * to fail the Nth operation of a protocol.
 */
export class InterceptedIo implements Io {
  protected readonly inner: Io;

  constructor(inner: Io) {
    this.inner = inner;
  }

  /** Runs a synchronous mutating operation; the default just runs it. */
  protected aroundSync<T>(_operation: IoMutation, _path: string, run: () => T): T {
    return run();
  }

  /** Runs an asynchronous mutating operation; the default just runs it. */
  protected aroundAsync<T>(_operation: IoMutation, _path: string, run: () => Promise<T>): Promise<T> {
    return run();
  }

  /**
   * Whether this Io's files may pass a `writeDatasyncSync` through as one operation (seen
   * by `aroundSync` as a 'datasync'). False here: an interceptor that counts or fails
   * writes and syncs one by one must see each, so the call is split into a `writeSync`
   * and a `datasyncSync`. A subclass that treats every mutation alike says true.
   */
  protected get joinsWriteAndDatasync(): boolean {
    return false;
  }

  /** Puts an already open file behind this Io's interception. */
  wrap(file: IoFile): IoFile {
    return new InterceptedFile(
      file,
      (operation, run) => this.aroundSync(operation, file.path, run),
      (operation, run) => this.aroundAsync(operation, file.path, run),
      this.joinsWriteAndDatasync,
    );
  }

  open(path: string, options: IoOpenOptions = {}): IoFile {
    const creates = options.create === true || options.createNew === true || options.truncate === true;
    const open = (): IoFile => this.inner.open(path, options);
    return this.wrap(creates ? this.aroundSync('open-create', path, open) : open());
  }

  stat(path: string): IoStat | null {
    return this.inner.stat(path);
  }

  list(dir: string): string[] {
    return this.inner.list(dir);
  }

  mkdir(dir: string): void {
    this.aroundSync('mkdir', dir, () => this.inner.mkdir(dir));
  }

  remove(path: string): void {
    this.aroundSync('remove', path, () => this.inner.remove(path));
  }

  /** The inner Io's `removeAsync`, or its `remove` run at once when it has none. */
  removeAsync(path: string): Promise<void> {
    return this.aroundAsync('remove', path, () => {
      const inner = this.inner;
      if (inner.removeAsync !== undefined) return inner.removeAsync(path);
      try {
        inner.remove(path);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }

  rename(from: string, to: string): void {
    this.aroundSync('rename', from, () => this.inner.rename(from, to));
  }

  /** The inner Io's `renameDurable`, or its `rename` run at once and then `syncDir`. */
  renameDurable(from: string, to: string): Promise<void> {
    return this.aroundAsync('rename', from, () => renameDurably(this.inner, from, to));
  }

  syncDir(dir: string): Promise<void> {
    return this.aroundAsync('sync-dir', dir, () => this.inner.syncDir(dir));
  }

  syncDirSync(dir: string): void {
    this.aroundSync('sync-dir', dir, () => this.inner.syncDirSync(dir));
  }

  watch(path: string, onChange: () => void): { close(): void } {
    return this.inner.watch?.(path, onChange) ?? { close: () => undefined };
  }
}

type AroundSync = <T>(operation: IoMutation, run: () => T) => T;
type AroundAsync = <T>(operation: IoMutation, run: () => Promise<T>) => Promise<T>;

export class InterceptedFile implements IoFile {
  readonly #file: IoFile;
  readonly #sync: AroundSync;
  readonly #async: AroundAsync;
  readonly #joinsWriteAndDatasync: boolean;

  constructor(file: IoFile, aroundSync: AroundSync, aroundAsync: AroundAsync, joinsWriteAndDatasync = false) {
    this.#file = file;
    this.#sync = aroundSync;
    this.#async = aroundAsync;
    this.#joinsWriteAndDatasync = joinsWriteAndDatasync;
  }

  get path(): string {
    return this.#file.path;
  }

  get isDirect(): boolean {
    return this.#file.isDirect;
  }

  get directFallback(): string | null {
    return this.#file.directFallback;
  }

  writeSync(data: Uint8Array, position: number): void {
    this.#sync('write', () => this.#file.writeSync(data, position));
  }

  writevSync(buffers: readonly Uint8Array[], position: number): void {
    this.#sync('write', () => this.#file.writevSync(buffers, position));
  }

  write(data: Uint8Array, position: number): Promise<void> {
    return this.#async('write', () => this.#file.write(data, position));
  }

  writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    return this.#async('write', () => this.#file.writev(buffers, position));
  }

  readSync(into: Uint8Array, position: number): number {
    return this.#file.readSync(into, position);
  }

  read(into: Uint8Array, position: number): Promise<number> {
    return this.#file.read(into, position);
  }

  sizeSync(): number {
    return this.#file.sizeSync();
  }

  setLengthSync(length: number): void {
    this.#sync('set-length', () => this.#file.setLengthSync(length));
  }

  datasyncSync(): void {
    this.#sync('datasync', () => this.#file.datasyncSync());
  }

  /** One operation when this Io joins them and the inner file can; else the write and the sync, each intercepted. */
  writeDatasyncSync(data: Uint8Array, position: number): void {
    const file = this.#file;
    if (this.#joinsWriteAndDatasync && file.writeDatasyncSync !== undefined) {
      this.#sync('datasync', () => (file.writeDatasyncSync as NonNullable<IoFile['writeDatasyncSync']>).call(file, data, position));
      return;
    }
    this.writeSync(data, position);
    this.datasyncSync();
  }

  datasync(): Promise<void> {
    return this.#async('datasync', () => this.#file.datasync());
  }

  fsync(): Promise<void> {
    return this.#async('fsync', () => this.#file.fsync());
  }

  /** Where the syncs run changes nothing about what is intercepted: they still pass through here. */
  useSyncThread(options?: SyncThreadOptions): boolean {
    return this.#file.useSyncThread?.(options) ?? false;
  }

  preallocateSync(offset: number, length: number): boolean {
    return this.#file.preallocateSync(offset, length);
  }

  adviseSync(offset: number, length: number, advice: Advice): void {
    this.#file.adviseSync(offset, length, advice);
  }

  mapSync(offset: number, length: number): Uint8Array {
    return this.#file.mapSync(offset, length);
  }

  closeSync(): void {
    this.#file.closeSync();
  }

  /** A copy into this file is a write to it, intercepted like one; null when the inner file cannot copy. */
  copyRangeFrom(source: IoFile, sourcePosition: number, length: number, position: number): Promise<CopiedBytes | null> {
    const file = this.#file;
    if (file.copyRangeFrom === undefined) return Promise.resolve(null);
    return this.#async('write', () => (file.copyRangeFrom as NonNullable<IoFile['copyRangeFrom']>).call(file, source, sourcePosition, length, position));
  }

  /** Reads go straight through, so the bytes are wherever the inner file has them. */
  backingFile(position: number, length: number): IoFile | null {
    return this.#file.backingFile?.(position, length) ?? null;
  }
}
