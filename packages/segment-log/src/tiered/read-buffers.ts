import type { SegmentFileKind } from './offload-event.js';

/** Files up to this size are read into a buffer kept for the next copy; larger ones get their own. */
export const READ_BUFFER_KEEP_BYTES_MAX = 16 * 1024 * 1024;

/**
 * The buffers the uploader reads a segment's files into, one per kind of file, kept from
 * one copy to the next. Allocating a fresh multi-megabyte buffer for every file of every
 * segment counts against V8's external memory and brought on full garbage collections on
 * the appending thread (about 9 ms per 12 MB offloaded, measured with 4 MiB segments).
 * A buffer is reused only after the copy that read into it is done with it: copies run
 * one at a time, and a store does not keep a put's bytes after the put settles. Files
 * larger than READ_BUFFER_KEEP_BYTES_MAX are read into buffers of their own, so that a log
 * of large segments does not hold one segment's worth of memory between copies.
 */
export class ReadBuffers {
  readonly #kept = new Map<SegmentFileKind, Buffer>();

  /** A buffer of exactly `size` bytes for a file of `kind`; its contents are whatever was there. */
  take(kind: SegmentFileKind, size: number): Buffer {
    if (size > READ_BUFFER_KEEP_BYTES_MAX) return Buffer.allocUnsafeSlow(size);
    let kept = this.#kept.get(kind);
    if (kept === undefined || kept.length < size) {
      // Grown to the next power of two, so that segments a little larger each time do not reallocate each time.
      kept = Buffer.allocUnsafeSlow(Math.min(READ_BUFFER_KEEP_BYTES_MAX, 2 ** Math.ceil(Math.log2(Math.max(size, 4096)))));
      this.#kept.set(kind, kept);
    }
    return kept.subarray(0, size);
  }
}
