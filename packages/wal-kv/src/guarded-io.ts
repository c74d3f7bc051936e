import type { Advice, Io, IoFile, IoOpenOptions, IoStat } from '@keel/core';

/**
 * Wraps the store's Io so that any failed mutating operation (write, sync, create,
 * rename, remove, truncate) poisons the store the moment it is seen, whichever file it
 * hit, and so that `sync()` can wait for the asynchronous ones already running: a sync
 * must never resolve after a write or sync has failed, even one a background snapshot
 * started a moment earlier.
 */
export class GuardedIo implements Io {
  readonly #io: Io;
  readonly #onFailure: (error: unknown) => void;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(io: Io, onFailure: (error: unknown) => void) {
    this.#io = io;
    this.#onFailure = onFailure;
  }

  /** Resolves once the asynchronous mutating operations running now have settled. */
  settled(): Promise<unknown> {
    return this.#pending.size === 0 ? Promise.resolve() : Promise.allSettled([...this.#pending]);
  }

  /** Runs a synchronous mutating operation; a failure poisons before it is rethrown. */
  guard<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      this.#onFailure(error);
      throw error;
    }
  }

  /** Tracks an asynchronous mutating operation; a failure poisons as soon as it settles. */
  track<T>(operation: () => Promise<T>): Promise<T> {
    const promise = this.guard(operation);
    this.#pending.add(promise);
    const settle = (): void => {
      this.#pending.delete(promise);
    };
    promise.then(settle, (error: unknown) => {
      settle();
      this.#onFailure(error);
    });
    return promise;
  }

  wrap(file: IoFile): IoFile {
    return new GuardedFile(this, file);
  }

  open(path: string, options: IoOpenOptions = {}): IoFile {
    const mutating = options.create === true || options.createNew === true || options.truncate === true;
    const file = mutating ? this.guard(() => this.#io.open(path, options)) : this.#io.open(path, options);
    return this.wrap(file);
  }
  stat(path: string): IoStat | null {
    return this.#io.stat(path);
  }
  list(dir: string): string[] {
    return this.#io.list(dir);
  }
  mkdir(dir: string): void {
    this.guard(() => this.#io.mkdir(dir));
  }
  remove(path: string): void {
    this.guard(() => this.#io.remove(path));
  }
  rename(from: string, to: string): void {
    this.guard(() => this.#io.rename(from, to));
  }
  syncDir(dir: string): Promise<void> {
    return this.track(() => this.#io.syncDir(dir));
  }
  syncDirSync(dir: string): void {
    this.guard(() => this.#io.syncDirSync(dir));
  }
}

class GuardedFile implements IoFile {
  readonly #guard: GuardedIo;
  readonly #file: IoFile;

  constructor(guard: GuardedIo, file: IoFile) {
    this.#guard = guard;
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
    this.#guard.guard(() => this.#file.writeSync(data, position));
  }
  writevSync(buffers: readonly Uint8Array[], position: number): void {
    this.#guard.guard(() => this.#file.writevSync(buffers, position));
  }
  write(data: Uint8Array, position: number): Promise<void> {
    return this.#guard.track(() => this.#file.write(data, position));
  }
  writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    return this.#guard.track(() => this.#file.writev(buffers, position));
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
    this.#guard.guard(() => this.#file.setLengthSync(length));
  }
  datasyncSync(): void {
    this.#guard.guard(() => this.#file.datasyncSync());
  }
  datasync(): Promise<void> {
    return this.#guard.track(() => this.#file.datasync());
  }
  fsync(): Promise<void> {
    return this.#guard.track(() => this.#file.fsync());
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
}
