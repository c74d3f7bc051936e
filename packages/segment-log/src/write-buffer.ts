/** A buffer this size or smaller is kept between appends; a larger one is dropped after its write. */
const KEPT_BYTES_MAX = 1024 * 1024;

/**
 * The buffer a run of records is framed into before its one write. `writeSync` has copied
 * the bytes (to the page cache) by the time it returns, so the next append reuses the
 * same memory: a batch costs no allocation of its own, and no DataView either.
 */
export class WriteBuffer {
  bytes = new Uint8Array(0);
  view = new DataView(this.bytes.buffer);

  /** A buffer of at least `length` bytes. Every byte a run uses is overwritten, so nothing is zeroed. */
  reserve(length: number): Uint8Array {
    if (length > this.bytes.length) {
      this.bytes = Buffer.allocUnsafeSlow(Math.max(length, Math.min(KEPT_BYTES_MAX, this.bytes.length * 2)));
      this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    }
    return this.bytes;
  }

  /** After a write: let go of an outsized buffer (a batch of large records) rather than hold it for the log's life. */
  release(): void {
    if (this.bytes.length > KEPT_BYTES_MAX) {
      this.bytes = new Uint8Array(0);
      this.view = new DataView(this.bytes.buffer);
    }
  }
}
