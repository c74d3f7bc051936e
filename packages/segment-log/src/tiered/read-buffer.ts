import { allocReadMemory } from '@keel/core';

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
 * segment's worth of memory between copies. The memory is page-aligned: the log is read
 * first, from its start into the buffer's, and so copies out of the page cache page to
 * page (see @keel/core's read-placement).
 */
export class ReadBuffer {
  #kept: Buffer | undefined;

  /** A buffer of exactly `size` bytes; its contents are whatever was there. */
  take(size: number): Buffer {
    if (size > READ_BUFFER_KEEP_BYTES_MAX) return pageAlignedBuffer(size);
    if (this.#kept === undefined || this.#kept.length < size) {
      // Grown to the next power of two, so that segments a little larger each time do not reallocate each time.
      this.#kept = pageAlignedBuffer(Math.min(READ_BUFFER_KEEP_BYTES_MAX, 2 ** Math.ceil(Math.log2(Math.max(size, 4096)))));
    }
    return this.#kept.subarray(0, size);
  }
}

function pageAlignedBuffer(size: number): Buffer {
  return Buffer.from(allocReadMemory(size));
}
