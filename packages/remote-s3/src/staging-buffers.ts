/** Puts up to this size are staged in shared memory kept for the next put; larger ones in a copy of their own. */
export const STAGING_KEEP_BYTES_MAX = 16 * 1024 * 1024;
/** Shared buffers kept for reuse at most (one per put in flight: a segment's files go up side by side). */
const STAGING_KEPT_MAX = 8;

export interface StagedBytes {
  /** The copy, in shared memory (posted without a copy) or in a buffer of its own (transferred). */
  view: Uint8Array;
  /** The buffer to transfer with the message, when the copy is not in shared memory. */
  transfer: ArrayBuffer | undefined;
  /** Gives the memory back for the next put: call once the worker has answered. */
  release(): void;
}

/**
 * Where WorkerS3RemoteStore copies a put's bytes for the worker thread. A fresh copy per
 * put (the first design) cost the appending thread about 10 ms per 12 MB offloaded, most
 * of it in first touches of newly allocated memory and the collections they brought on;
 * copying into shared memory kept from put to put costs the memcpy alone. A buffer is
 * reused only after the worker answered the put that used it, so it never changes under
 * a request being sent.
 */
export class StagingBuffers {
  readonly #free: SharedArrayBuffer[] = [];

  stage(bytes: Uint8Array): StagedBytes {
    if (bytes.length > STAGING_KEEP_BYTES_MAX) {
      const copy = new Uint8Array(bytes);
      return { view: copy, transfer: copy.buffer, release: () => {} };
    }
    const shared = this.#take(bytes.length);
    const view = new Uint8Array(shared, 0, bytes.length);
    view.set(bytes);
    return {
      view,
      transfer: undefined,
      release: () => {
        if (this.#free.length < STAGING_KEPT_MAX) this.#free.push(shared);
      },
    };
  }

  /** The smallest free buffer that holds `size` bytes, or a new one (sized to a power of two, so sizes that creep up reuse it). */
  #take(size: number): SharedArrayBuffer {
    let best = -1;
    this.#free.forEach((buffer, index) => {
      if (buffer.byteLength >= size && (best < 0 || buffer.byteLength < this.#free[best]!.byteLength)) best = index;
    });
    if (best >= 0) return this.#free.splice(best, 1)[0]!;
    return new SharedArrayBuffer(Math.min(STAGING_KEEP_BYTES_MAX, 2 ** Math.ceil(Math.log2(Math.max(size, 4096)))));
  }
}
