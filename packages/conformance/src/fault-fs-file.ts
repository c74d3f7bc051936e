import { ioError, type Advice, type CopiedBytes, type IoFile } from '@keel/core';
import type { FaultFs } from './fault-fs.js';
import type { FileNode } from './fs-state.js';

/** An open handle on a FaultFs file node; see FaultFs for the model. */
export class FaultFsFile implements IoFile {
  readonly path: string;
  readonly isDirect = false;
  readonly directFallback: string | null;
  readonly #fs: FaultFs;
  readonly #node: number;
  readonly #writable: boolean;
  #closed = false;

  constructor(fs: FaultFs, path: string, node: number, writable: boolean, direct: boolean) {
    this.#fs = fs;
    this.path = path;
    this.#node = node;
    this.#writable = writable;
    this.directFallback = direct ? 'FaultFs keeps files in memory and does not model O_DIRECT' : null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  writeSync(data: Uint8Array, position: number): void {
    const node = this.#open('pwrite');
    if (!this.#writable) throw ioError('EBADF', 'pwrite', this.path);
    const short = this.#fs.begin('write', true, 'pwrite', this.path);
    if (short !== null) {
      // A short write: the first half reached the page cache before the disk filled up.
      this.#fs.write(node, position, data.subarray(0, data.length >>> 1));
      throw ioError(short.errno, 'pwrite', this.path, `${short.errno}: injected short write to '${this.path}'`);
    }
    this.#fs.write(node, position, data);
  }

  writevSync(buffers: readonly Uint8Array[], position: number): void {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const buffer of buffers) {
      joined.set(buffer, offset);
      offset += buffer.length;
    }
    this.writeSync(joined, position);
  }

  write(data: Uint8Array, position: number): Promise<void> {
    return settle(() => this.writeSync(data, position));
  }

  writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    return settle(() => this.writevSync(buffers, position));
  }

  readSync(into: Uint8Array, position: number): number {
    const node = this.#open('pread');
    this.#fs.begin('read', false, 'pread', this.path);
    const available = Math.max(0, Math.min(into.length, node.current.length - position));
    into.set(node.current.subarray(position, position + available));
    return available;
  }

  read(into: Uint8Array, position: number): Promise<number> {
    return settle(() => this.readSync(into, position));
  }

  sizeSync(): number {
    return this.#open('fstat').current.length;
  }

  setLengthSync(length: number): void {
    const node = this.#open('ftruncate');
    if (!this.#writable) throw ioError('EBADF', 'ftruncate', this.path);
    const injected = this.#fs.begin('write', true, 'ftruncate', this.path);
    // A short-write injection has no short form for a truncate: it simply fails.
    if (injected !== null) throw ioError(injected.errno, 'ftruncate', this.path, `${injected.errno}: injected failure of ftruncate '${this.path}'`);
    this.#fs.setLength(node, length);
  }

  datasyncSync(): void {
    const node = this.#open('fdatasync');
    const through = this.#beginSync(node, 'fdatasync');
    this.#fs.makeDurable(node, through);
  }

  datasync(): Promise<void> {
    return this.#syncAsync('fdatasync');
  }

  fsync(): Promise<void> {
    return this.#syncAsync('fsync');
  }

  preallocateSync(offset: number, length: number): boolean {
    this.#open('fallocate');
    void offset;
    void length;
    // KEEP_SIZE preallocation changes no byte a read can see; the model has nothing to do.
    return true;
  }

  adviseSync(offset: number, length: number, advice: Advice): void {
    this.#open('fadvise');
    void offset;
    void length;
    void advice;
  }

  mapSync(offset: number, length: number): Uint8Array {
    const node = this.#open('mmap');
    if (length <= 0 || offset < 0 || offset + length > node.current.length) throw ioError('EINVAL', 'mmap', this.path);
    // A copy, not a view: later writes must not change bytes a caller already holds.
    return node.current.slice(offset, offset + length);
  }

  /**
   * A copy inside the kernel, in the crash model's terms: the source's bytes as a read sees
   * them now, written to this file as one unsynced write (so a crash can lose, keep, tear
   * or reorder it like any other, and injections and write fates count it as a write).
   * Null for a source on another disk, which the kernel could not copy from either.
   */
  copyRangeFrom(source: IoFile, sourcePosition: number, length: number, position: number): Promise<CopiedBytes | null> {
    return settle(() => {
      const backing = source.backingFile?.(sourcePosition, length) ?? null;
      if (!(backing instanceof FaultFsFile) || backing.#fs !== this.#fs) return null;
      const bytes = new Uint8Array(length);
      const read = backing.readSync(bytes, sourcePosition);
      if (read > 0) this.writeSync(bytes.subarray(0, read), position);
      return { reflink: 0, copyFileRange: read, readWrite: 0 };
    });
  }

  backingFile(): IoFile {
    return this;
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fs.releaseLock(this.#node, this);
  }

  #open(syscall: string): FileNode {
    if (this.#closed) throw ioError('ECLOSED', syscall, this.path);
    return this.#fs.node(this.#node);
  }

  /** Counts the sync; on an injected failure drops the unsynced pages before throwing. */
  #beginSync(node: FileNode, syscall: string): number {
    const through = this.#fs.nextSequence();
    try {
      this.#fs.begin('sync', true, syscall, this.path);
    } catch (error) {
      if (!this.#fs.frozen) this.#fs.dropUnsynced(node, through);
      throw error;
    }
    return through;
  }

  #syncAsync(syscall: string): Promise<void> {
    try {
      const node = this.#open(syscall);
      const through = this.#beginSync(node, syscall);
      return this.#fs.settleSync(() => this.#fs.makeDurable(node, through));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Runs a synchronous effect and reports it the way an async Io call would. */
function settle<T>(effect: () => T): Promise<T> {
  try {
    return Promise.resolve(effect());
  } catch (error) {
    return Promise.reject(error);
  }
}
