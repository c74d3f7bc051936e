import { ioError, nativeIo, type Io, type IoFile, type IoOpenOptions } from '@keel/core';

/**
 * An Io that fails the Nth mutating operation (write, sync, rename, remove, create,
 * truncate) and every one after it with EIO, as a disk that died at that point would.
 * `failAt: Infinity` never fails and only counts, so a test can learn how many mutating
 * operations an action performs.
 */
export class FaultyIo implements Io {
  mutations = 0;
  failAt: number;
  /** Only operations this accepts are counted and failed. */
  readonly #counts: (operation: string, path: string) => boolean;
  /** Called at the moment an operation fails, before the caller hears of it. */
  onFailure: (() => void) | null = null;

  constructor(failAt = Infinity, counts: (operation: string, path: string) => boolean = () => true) {
    this.failAt = failAt;
    this.#counts = counts;
  }

  mutate(operation: string, path: string): void {
    if (!this.#counts(operation, path)) return;
    this.mutations++;
    if (this.mutations < this.failAt) return;
    this.onFailure?.();
    throw ioError('EIO', operation, path);
  }

  open(path: string, options: IoOpenOptions = {}): IoFile {
    if (options.create || options.createNew || options.truncate) this.mutate('open', path);
    return new FaultyFile(this, nativeIo.open(path, options));
  }
  stat(path: string) {
    return nativeIo.stat(path);
  }
  list(dir: string): string[] {
    return nativeIo.list(dir);
  }
  mkdir(dir: string): void {
    nativeIo.mkdir(dir);
  }
  remove(path: string): void {
    this.mutate('remove', path);
    nativeIo.remove(path);
  }
  rename(from: string, to: string): void {
    this.mutate('rename', from);
    nativeIo.rename(from, to);
  }
  async syncDir(dir: string): Promise<void> {
    this.mutate('syncDir', dir);
    await nativeIo.syncDir(dir);
  }
  syncDirSync(dir: string): void {
    this.mutate('syncDir', dir);
    nativeIo.syncDirSync(dir);
  }
}

class FaultyFile implements IoFile {
  readonly #io: FaultyIo;
  readonly #file: IoFile;

  constructor(io: FaultyIo, file: IoFile) {
    this.#io = io;
    this.#file = file;
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
    this.#io.mutate('write', this.path);
    this.#file.writeSync(data, position);
  }
  writevSync(buffers: readonly Uint8Array[], position: number): void {
    this.#io.mutate('write', this.path);
    this.#file.writevSync(buffers, position);
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    this.#io.mutate('write', this.path);
    await this.#file.write(data, position);
  }
  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    this.#io.mutate('write', this.path);
    await this.#file.writev(buffers, position);
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
    this.#io.mutate('setLength', this.path);
    this.#file.setLengthSync(length);
  }
  datasyncSync(): void {
    this.#io.mutate('datasync', this.path);
    this.#file.datasyncSync();
  }
  async datasync(): Promise<void> {
    this.#io.mutate('datasync', this.path);
    await this.#file.datasync();
  }
  async fsync(): Promise<void> {
    this.#io.mutate('fsync', this.path);
    await this.#file.fsync();
  }
  preallocateSync(offset: number, length: number): boolean {
    return this.#file.preallocateSync(offset, length);
  }
  adviseSync(offset: number, length: number, advice: 'normal' | 'sequential' | 'random' | 'willneed' | 'dontneed'): void {
    this.#file.adviseSync(offset, length, advice);
  }
  mapSync(offset: number, length: number): Uint8Array {
    return this.#file.mapSync(offset, length);
  }
  closeSync(): void {
    this.#file.closeSync();
  }
}
