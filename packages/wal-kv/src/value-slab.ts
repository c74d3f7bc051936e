import { Buffer } from 'node:buffer';

/** One slab's size: a kept value holds on to its slab, as Node's pooled Buffers hold their 8 KiB pool. */
const SLAB_BYTES = 64 * 1024;
/** A read goes into a fresh slab once less than this is left (a larger value is read into a buffer of its own). */
export const SLAB_ROOM_MIN = 8 * 1024;

/**
 * Where gets of binary values put them: each value is verified and copied by the native
 * read straight into its place in a slab, and handed out as a view of it (one copy, no
 * allocation per value but the view), the way Node's `Buffer.allocUnsafe` pools small
 * buffers. Values never overlap, so each is the caller's to keep and write into.
 */
export class ValueSlab {
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #used = 0;

  /** The slab for the next read, with at least SLAB_ROOM_MIN bytes free from `offset` (read it first). */
  get buffer(): Buffer {
    if (SLAB_BYTES - this.#used < SLAB_ROOM_MIN) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#used = 0;
    }
    return this.#slab;
  }

  get offset(): number {
    return this.#used;
  }

  /** Hands out the `length` bytes the read just put at `offset`. */
  take(length: number): Buffer {
    const value = this.#slab.subarray(this.#used, this.#used + length);
    // 8-byte aligned, as Node aligns pooled buffers.
    this.#used = (this.#used + length + 7) & ~7;
    return value;
  }
}
