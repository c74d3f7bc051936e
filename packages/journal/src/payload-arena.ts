/**
 * Hands out payload copies cut from shared chunks: one ArrayBuffer allocation per chunk
 * instead of one per record (a per-record `slice()` costs more than the whole CRC-checked
 * scan). A chunk is never reused, so every copy stays valid for as long as it is held; a
 * held copy keeps its chunk (at most ARENA_CHUNK_BYTES) alive.
 */
export const ARENA_CHUNK_BYTES = 256 * 1024;

export class PayloadArena {
  #chunk = new Uint8Array(0);
  #used = 0;

  copy(payload: Uint8Array): Uint8Array {
    const length = payload.length;
    if (length > ARENA_CHUNK_BYTES / 4) return payload.slice();
    if (this.#used + length > ARENA_CHUNK_BYTES || this.#chunk.length === 0) {
      this.#chunk = new Uint8Array(ARENA_CHUNK_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    this.#chunk.set(payload, start);
    this.#used = start + length;
    // The constructor, not subarray(): subarray looks up a species constructor per call.
    return new Uint8Array(this.#chunk.buffer, start, length);
  }
}
