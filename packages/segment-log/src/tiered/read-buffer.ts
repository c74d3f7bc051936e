import { allocReadMemory, placedBytes, placedView } from '@keel/core';

/** Segments up to this size (log and indexes together) are read into a buffer kept for the next copy; larger ones get their own. */
export const READ_BUFFER_KEEP_BYTES_MAX = 16 * 1024 * 1024;

/**
 * The buffer the uploader reads a segment's files into, kept from one copy to the next.
 * Allocating a fresh multi-megabyte buffer for every segment counts against V8's external
 * memory and brought on full garbage collections on the appending thread (about 9 ms per
 * 12 MB offloaded, measured with 4 MiB segments). The buffer is reused only after the copy
 * that read into it is done with it: copies run one at a time, and a store does not keep
 * a put's bytes after the put settles. Segments larger than READ_BUFFER_KEEP_BYTES_MAX are
 * read into buffers of their own, so that a log of large segments does not hold one
 * segment's worth of memory between copies. The log is read first, from its start, so the
 * buffer handed out starts at a page boundary of memory and the log copies out of the
 * page cache page to page (see @keel/core's read-placement).
 */
export class ReadBuffer {
  #kept: Uint8Array | undefined;

  /** A buffer of exactly `size` bytes; its contents are whatever was there. */
  take(size: number): Buffer {
    if (size > READ_BUFFER_KEEP_BYTES_MAX) return placedAtPageStart(allocReadMemory(size), size);
    if (this.#kept === undefined || this.#kept.length < placedBytes(size)) {
      // Grown to the next power of two, so that segments a little larger each time do not reallocate each time.
      this.#kept = allocReadMemory(Math.min(READ_BUFFER_KEEP_BYTES_MAX, 2 ** Math.ceil(Math.log2(Math.max(size, 4096)))));
    }
    return placedAtPageStart(this.#kept, size);
  }
}

/** `size` bytes of `memory` from its first page boundary, as a Buffer (what the store's put takes). */
function placedAtPageStart(memory: Uint8Array, size: number): Buffer {
  const view = placedView(memory, 0, size);
  return Buffer.from(view.buffer, view.byteOffset, size);
}
