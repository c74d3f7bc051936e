import { PAGE_BYTES, PLACED_READ_BYTES_MIN, allocReadBuffer, placedBytes, placedView } from '@keel/core';

/**
 * At most this many released buffers wait for reuse: a loop that releases each batch
 * before it reads the next needs one; a few more cover reads that span chunks.
 */
export const READ_BUFFERS_POOLED_MAX = 4;

/**
 * Read buffers given back by released `readBatch()` batches, for the log's next reads.
 * A fresh buffer costs a page fault per page touched (about 1,000 for a 4 MiB read); a
 * returned one is already in memory. Only a batch's explicit release returns buffers,
 * so a buffer is never handed out while a batch that has not been released still uses it.
 */
export class ReadBufferPool {
  readonly #free: ArrayBuffer[] = [];
  /** Larger buffers (grown for one large record) are not kept; a placed read's page of slack is allowed on top. */
  readonly #bufferBytesMax: number;
  /** Once the log is closed no read takes a buffer: none is kept, however long the log object lives. */
  #closed = false;

  constructor(bufferBytesMax: number) {
    this.#bufferBytesMax = bufferBytesMax;
  }

  /**
   * A buffer of `length` bytes for a read at `position`: in the smallest returned one large
   * enough (the most recently returned among equals), or fresh. The smallest, so that a
   * small read the caller keeps does not hold a whole chunk's buffer that a later large
   * read could have used. A large read is placed for its position (see @keel/core's
   * read-placement), in memory with a page of slack.
   */
  take(length: number, position: number): Uint8Array {
    const placed = length >= PLACED_READ_BYTES_MIN;
    const needed = placed ? placedBytes(length) : length;
    const free = this.#free;
    let best = -1;
    for (let index = free.length - 1; index >= 0; index--) {
      const size = free[index]!.byteLength;
      if (size >= needed && (best < 0 || size < free[best]!.byteLength)) best = index;
    }
    if (best < 0) return allocReadBuffer(length, position);
    const [buffer] = free.splice(best, 1);
    return placed ? placedView(new Uint8Array(buffer!), position, length) : new Uint8Array(buffer!, 0, length);
  }

  /**
   * Takes back the buffer under a released batch's chunk. Beyond the maximum count the
   * smallest is left to the collector, so that small first reads do not crowd out whole
   * chunks; a buffer over the maximum size is left to it at once.
   */
  give(buffer: ArrayBuffer): void {
    if (this.#closed || buffer.byteLength > this.#bufferBytesMax + PAGE_BYTES) return;
    const free = this.#free;
    free.push(buffer);
    if (free.length <= READ_BUFFERS_POOLED_MAX) return;
    let smallest = 0;
    for (let index = 1; index < free.length; index++) if (free[index]!.byteLength < free[smallest]!.byteLength) smallest = index;
    free.splice(smallest, 1);
  }

  /** At the log's close: drops the buffers kept, and keeps none given back later (a batch may be released after close). */
  close(): void {
    this.#closed = true;
    this.#free.length = 0;
  }
}
