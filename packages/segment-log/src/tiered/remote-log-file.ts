import { KeelError, type IoFile } from '@keel/core';

/**
 * Thrown by a RemoteLogFile read that needs bytes not fetched yet: the async reader
 * fetches them and runs the (synchronous) read again. Never escapes the tiered reader.
 */
export class MissingRange extends Error {
  readonly position: number;
  readonly length: number;

  constructor(position: number, length: number) {
    super(`bytes [${position}, ${position + length}) of a remote segment are not fetched yet`);
    this.name = 'MissingRange';
    this.position = position;
    this.length = length;
  }
}

/**
 * A remote copy's `.log` as the segment readers see a file: fixed-size blocks fetched by
 * byte range, looked up through `block(index)`. It lets the local read path (frame
 * checks, offset checks, decoding) run unchanged over remote bytes: a read of bytes not
 * there yet throws MissingRange. Read-only: every write is refused.
 */
export class RemoteLogFile implements IoFile {
  readonly path: string;
  readonly isDirect = false;
  readonly directFallback = null;
  readonly #size: number;
  readonly #blockBytes: number;
  readonly #block: (index: number) => Uint8Array | undefined;

  constructor(path: string, size: number, blockBytes: number, block: (index: number) => Uint8Array | undefined) {
    this.path = path;
    this.#size = size;
    this.#blockBytes = blockBytes;
    this.#block = block;
  }

  readSync(into: Uint8Array, position: number): number {
    const end = Math.min(this.#size, position + into.length);
    let at = position;
    while (at < end) {
      const index = Math.floor(at / this.#blockBytes);
      const block = this.#block(index);
      if (block === undefined) throw new MissingRange(at, end - at);
      const from = at - index * this.#blockBytes;
      const take = Math.min(end - at, block.length - from);
      into.set(block.subarray(from, from + take), at - position);
      at += take;
    }
    return Math.max(0, end - position);
  }

  read(into: Uint8Array, position: number): Promise<number> {
    return Promise.resolve().then(() => this.readSync(into, position));
  }

  sizeSync(): number {
    return this.#size;
  }

  closeSync(): void {}

  writeSync(): void {
    throw this.#readOnly();
  }

  writevSync(): void {
    throw this.#readOnly();
  }

  write(): Promise<void> {
    return Promise.reject(this.#readOnly());
  }

  writev(): Promise<void> {
    return Promise.reject(this.#readOnly());
  }

  setLengthSync(): void {
    throw this.#readOnly();
  }

  datasyncSync(): void {}

  datasync(): Promise<void> {
    return Promise.resolve();
  }

  fsync(): Promise<void> {
    return Promise.resolve();
  }

  preallocateSync(): boolean {
    return false;
  }

  adviseSync(): void {}

  mapSync(): Uint8Array {
    throw new KeelError('KEEL_UNSUPPORTED', `${this.path} is a remote object and cannot be mapped`, { path: this.path });
  }

  #readOnly(): KeelError {
    return new KeelError('KEEL_READ_ONLY', `${this.path} is a remote copy of a sealed segment and is never written`, { path: this.path });
  }
}
