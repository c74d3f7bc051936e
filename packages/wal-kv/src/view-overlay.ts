import { Buffer } from 'node:buffer';
import type { KeyBytes } from './encoding.js';
import type { Range, RangeEntry } from './range.js';
import { SortedRuns } from './sorted-runs.js';

/**
 * The map key of a key's bytes: their latin1 string (an ASCII string key is already
 * that), so a string key and the same bytes given as a Uint8Array are one entry.
 */
export function overlayKey(key: KeyBytes): string {
  return typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * What a read view needs beyond the live index. A live entry whose seq is at most the
 * view's `seq` is the one the key had at creation (nothing but a write changes an
 * entry's seq, and compaction's moves keep it). A key written since is newer than the
 * view: the view kept its entry at creation, captured just before the first write that
 * changed it, or, when nothing was captured, the key did not exist then. So only keys
 * that existed and were then overwritten or deleted cost memory, one entry each; new
 * keys cost nothing. The captured entries are also kept sorted by key bytes, for ranges.
 */
export class ViewOverlay {
  /** The log generation current at creation: older ones are no longer needed, this and later ones are pinned. */
  readonly generation: number;
  /** The last seq written before the view was created. */
  readonly seq: number;
  /** The store's key count at creation. */
  readonly keys: number;
  readonly #before = new Map<string, RangeEntry>();
  /** The captured entries, sorted by key bytes, as runs searched together (see `SortedRuns`). */
  readonly #sorted = new SortedRuns();

  constructor(generation: number, seq: number, keys: number) {
    this.generation = generation;
    this.seq = seq;
    this.keys = keys;
  }

  /** Captured keys; it only grows, so a changed size means a new capture. */
  get size(): number {
    return this.#before.size;
  }

  /** The entry at creation of a key written since, or undefined when the key did not exist then. */
  get(key: string): RangeEntry | undefined {
    return this.#before.get(key);
  }

  /** Keeps the first entry captured for `key`; later captures of the same key change nothing. */
  capture(key: string, entry: RangeEntry): void {
    if (this.#before.has(key)) return;
    this.#before.set(key, entry);
    this.#sorted.add(entry);
  }

  /** The captured entry that existed at creation and comes first in `range` (its last in reverse), or null. */
  first(range: Range): RangeEntry | null {
    const entry = this.#sorted.first(range);
    if (entry === null) return null;
    return range.reverse ? (withinLower(entry.key, range) ? entry : null) : withinUpper(entry.key, range) ? entry : null;
  }
}

export function withinUpper(key: Uint8Array, range: Range): boolean {
  if (range.upper === null) return true;
  const order = Buffer.compare(key, range.upper);
  return order < 0 || (order === 0 && range.upperInclusive);
}

export function withinLower(key: Uint8Array, range: Range): boolean {
  if (range.lower === null) return true;
  const order = Buffer.compare(key, range.lower);
  return order > 0 || (order === 0 && range.lowerInclusive);
}
