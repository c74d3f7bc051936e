import type { Segment } from './segment.js';

/**
 * At most this many sealed segments keep their `.log` open; the rest are opened when a
 * read needs them and closed again least recently used first, so a log of thousands of
 * small segments stays within the process's file-descriptor limit.
 */
export const SEALED_FILES_OPEN_MAX = 128;

/** Least-recently-used set of sealed segments whose files are open. */
export class SealedFileCache {
  readonly #capacity: number;
  /** Map iteration order is insertion order: the first entry is the least recently used. */
  readonly #open = new Map<Segment, true>();

  constructor(capacity = SEALED_FILES_OPEN_MAX) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Records a use; admits the segment and closes the least recently used beyond capacity.
   * A segment a roll left unsynced keeps its file (and its place) until a flush makes it
   * durable: until then the cache may hold more than its capacity.
   */
  touch(segment: Segment): void {
    this.#open.delete(segment);
    this.#open.set(segment, true);
    for (const oldest of this.#open.keys()) {
      if (this.#open.size <= this.#capacity) break;
      if (oldest !== segment && oldest.releaseFile()) this.#open.delete(oldest);
    }
  }

  forget(segment: Segment): void {
    this.#open.delete(segment);
  }
}
