import { PAGE_BYTES, allocReadMemory, placedIndex } from '@keel/core';

/** A buffer this size or smaller is kept between appends; a larger one is dropped after its write. */
const KEPT_BYTES_MAX = 1024 * 1024;

/**
 * The buffer a run of records is framed into before its one write. `writeSync` has copied
 * the bytes (to the page cache) by the time it returns, so the next append reuses the
 * same memory: a batch costs no allocation of its own.
 *
 * The run is placed as keel places large reads (core's read placement): its first byte
 * sits as far into a page of memory as its file position sits into a page of the file, so
 * the kernel's copy into the page cache runs page to page. A copy whose destination lies
 * 1 to 31 bytes past its source within a page takes a slow path on some CPUs, about ten
 * times slower per byte; unplaced, the first run after every roll (written at 40, after
 * the header, from memory 16 bytes into a page) took it every time.
 */
export class WriteBuffer {
  #memory: Uint8Array = new Uint8Array(0);
  #start = -1;
  bytes: Uint8Array = new Uint8Array(0);
  view = new DataView(this.bytes.buffer);

  /**
   * A buffer of at least `length` bytes for a run to be written at file `position`, with
   * `view` over the same bytes. Every byte a run uses is overwritten, so nothing is zeroed.
   */
  reserve(length: number, position: number): Uint8Array {
    if (length > this.#capacity()) {
      this.#memory = allocReadMemory(Math.max(length, Math.min(KEPT_BYTES_MAX, this.#capacity() * 2)));
      this.#start = -1;
    }
    const start = placedIndex(this.#memory, 0, position);
    if (start !== this.#start) {
      // A new view only when the run's page offset moved: one small object per write at most.
      this.bytes = this.#memory.subarray(start, start + this.#capacity());
      this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
      this.#start = start;
    }
    return this.bytes;
  }

  /** After a write: let go of an outsized buffer (a batch of large records) rather than hold it for the log's life. */
  release(): void {
    if (this.#capacity() > KEPT_BYTES_MAX) {
      this.#memory = new Uint8Array(0);
      this.#start = -1;
      this.bytes = new Uint8Array(0);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  /** What a run may take wherever it is placed: the memory less the page of slack placement uses. */
  #capacity(): number {
    return Math.max(0, this.#memory.length - (PAGE_BYTES - 1));
  }
}
