import { ioError, type IoFile } from '@keel/core';

/**
 * A directory opened read-only on a FaultFs, as stores open their directory to lock it:
 * it holds a lock and nothing else, so every data operation fails as on a real
 * directory descriptor (EISDIR).
 */
export class FaultFsDirectoryHandle implements IoFile {
  readonly path: string;
  readonly isDirect = false;
  readonly directFallback = null;
  readonly #release: () => void;
  #closed = false;

  constructor(path: string, release: () => void) {
    this.path = path;
    this.#release = release;
  }

  get closed(): boolean {
    return this.#closed;
  }

  closeSync(): void {
    if (this.#closed) throw ioError('EBADF', 'close', this.path);
    this.#closed = true;
    this.#release();
  }

  #refuse(syscall: string): never {
    throw ioError(this.#closed ? 'EBADF' : 'EISDIR', syscall, this.path);
  }

  writeSync(): void {
    this.#refuse('pwrite');
  }
  writevSync(): void {
    this.#refuse('pwritev');
  }
  write(): Promise<void> {
    return Promise.reject(ioError('EISDIR', 'pwrite', this.path));
  }
  writev(): Promise<void> {
    return Promise.reject(ioError('EISDIR', 'pwritev', this.path));
  }
  readSync(): number {
    return this.#refuse('pread');
  }
  read(): Promise<number> {
    return Promise.reject(ioError('EISDIR', 'pread', this.path));
  }
  sizeSync(): number {
    return 0;
  }
  setLengthSync(): void {
    this.#refuse('ftruncate');
  }
  datasyncSync(): void {
    this.#refuse('fdatasync');
  }
  datasync(): Promise<void> {
    return Promise.reject(ioError('EISDIR', 'fdatasync', this.path));
  }
  fsync(): Promise<void> {
    return Promise.reject(ioError('EISDIR', 'fsync', this.path));
  }
  preallocateSync(): boolean {
    return this.#refuse('fallocate');
  }
  adviseSync(): void {
    this.#refuse('fadvise');
  }
  mapSync(): Uint8Array {
    return this.#refuse('mmap');
  }
}
