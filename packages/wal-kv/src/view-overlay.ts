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
  #sorted: RangeEntry[] = [];
  /** Captured but not yet merged into `#sorted`: merged at the next range search, so a capture costs no array shift. */
  #unsorted: RangeEntry[] = [];

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
    this.#unsorted.push(entry);
  }

  /** The captured entry that existed at creation and comes first in `range` (its last in reverse), or null. */
  first(range: Range): RangeEntry | null {
    const sorted = this.#merged();
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

  /** `#sorted` with the entries captured since the last search merged in: one sort of the new ones and one pass. */
  #merged(): RangeEntry[] {
    const added = this.#unsorted;
    if (added.length === 0) return this.#sorted;
    added.sort((a, b) => Buffer.compare(a.key, b.key));
    const old = this.#sorted;
    const merged = new Array<RangeEntry>(old.length + added.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) {
      merged[k] = j >= added.length || (i < old.length && Buffer.compare(old[i]!.key, added[j]!.key) < 0) ? old[i++]! : added[j++]!;
    }
    this.#sorted = merged;
    this.#unsorted = [];
    return merged;
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
