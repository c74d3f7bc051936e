import { Buffer } from 'node:buffer';
import type { KeyBytes } from './encoding.js';
import type { Range, RangeEntry } from './range.js';

/**
 * The map key of a key's bytes: their latin1 string (an ASCII string key is already
 * that), so a string key and the same bytes given as a Uint8Array are one entry.
 */
export function overlayKey(key: KeyBytes): string {
  return typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * What a read view saw of the keys written since it was created: for each such key, its
 * entry at the view's creation (null: absent then), captured just before the first write
 * that changed it. Every other key still has the value it had then, so the view reads it
 * from the live index. The entries that existed are also kept sorted by key bytes, for
 * ranges. It grows by one entry per distinct key written while it is open.
 */
export class ViewOverlay {
  /** The log generation current at creation: older ones are no longer needed, this and later ones are pinned. */
  readonly generation: number;
  readonly #before = new Map<string, RangeEntry | null>();
  readonly #sorted: RangeEntry[] = [];

  constructor(generation: number) {
    this.generation = generation;
  }

  /** Captured keys; it only grows, so a changed size means a new capture. */
  get size(): number {
    return this.#before.size;
  }

  has(key: string): boolean {
    return this.#before.has(key);
  }

  /** The entry at creation (null: absent then), or undefined when the key has not changed since. */
  get(key: string): RangeEntry | null | undefined {
    return this.#before.get(key);
  }

  /** Keeps the first entry captured for `key`; later captures of the same key change nothing. */
  capture(key: string, entry: RangeEntry | null): void {
    if (this.#before.has(key)) return;
    this.#before.set(key, entry);
    if (entry !== null) this.#sorted.splice(this.#firstAt(entry.key, false), 0, entry);
  }

  /** Every captured key with its entry at creation. */
  captured(): IterableIterator<[string, RangeEntry | null]> {
    return this.#before.entries();
  }

  /** The captured entry that existed at creation and comes first in `range` (its last in reverse), or null. */
  first(range: Range): RangeEntry | null {
    const sorted = this.#sorted;
    if (sorted.length === 0) return null;
    if (!range.reverse) {
      const at = range.lower === null ? 0 : this.#firstAt(range.lower, !range.lowerInclusive);
      const entry = sorted[at];
      return entry !== undefined && withinUpper(entry.key, range) ? entry : null;
    }
    const at = (range.upper === null ? sorted.length : this.#firstAt(range.upper, range.upperInclusive)) - 1;
    const entry = sorted[at];
    return entry !== undefined && withinLower(entry.key, range) ? entry : null;
  }

  /** Index of the first sorted entry whose key is ≥ `key` (> with `strict`). */
  #firstAt(key: Uint8Array, strict: boolean): number {
    let low = 0;
    let high = this.#sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = Buffer.compare(this.#sorted[middle]!.key, key);
      if (order < 0 || (strict && order === 0)) low = middle + 1;
      else high = middle;
    }
    return low;
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
