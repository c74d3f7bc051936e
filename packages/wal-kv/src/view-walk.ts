import { Buffer } from 'node:buffer';
import { decodeKey, decodeValue } from './encoding.js';
import { IndexCursor, RANGE_BATCH_ENTRIES, type Range, type RangeEntry } from './range.js';
import { ValueRun } from './value-run.js';
import type { ViewOverlay } from './view-overlay.js';
import { readEntry } from './views.js';
import type { StoreState } from './wal-kv.js';

/**
 * The entries of `range` as `view` sees them: the live index walked in key order, minus
 * the entries written since the view was created (newer seqs), merged with what the view
 * captured of those keys (their entries at creation). Both sides are consulted again at
 * every step, so writes between steps never show; a live entry fetched before a write
 * captured it meets its captured twin in the merge, and only one of the two is handed
 * out. `assertOpen` runs before each step. `catchUp` false: the index's ordered view
 * was brought up to date after the view was opened, so the walk need not catch up first.
 * `readsValues`: the live entries' values are read a batch at a time (see `ValueRun`).
 */
export class ViewCursor {
  readonly #view: ViewOverlay;
  readonly #live: IndexCursor;
  readonly #reverse: boolean;
  readonly #assertOpen: () => void;
  /** What is left of the range once entries are handed out: the captured side is searched in it. */
  readonly #rest: Range;
  #remaining: number;
  /** The live entry fetched but not handed out yet (undefined: none fetched). */
  #next: RangeEntry | null | undefined = undefined;
  /** The first captured entry left in the range, searched again only after a capture or once it is handed out. */
  #captured: RangeEntry | null = null;
  #capturedAt = -1;

  constructor(state: StoreState, view: ViewOverlay, range: Range, assertOpen: () => void, catchUp = true, readsValues = false) {
    this.#view = view;
    this.#reverse = range.reverse;
    this.#assertOpen = assertOpen;
    this.#rest = { ...range };
    this.#remaining = range.limit;
    this.#live = new IndexCursor(
      state.index,
      { ...range, limit: Infinity },
      () => {
        assertOpen();
        return state.generation;
      },
      catchUp,
      readsValues ? new ValueRun(state, RANGE_BATCH_ENTRIES) : null,
    );
  }

  /** The next entry, or null at the end of the range. */
  next(): RangeEntry | null {
    this.#assertOpen();
    if (this.#remaining <= 0) return null;
    const view = this.#view;
    let next = this.#next === undefined ? this.#live.next() : this.#next;
    while (next !== null && next.seq > view.seq) next = this.#live.next();
    if (this.#capturedAt !== view.size) {
      this.#captured = view.first(this.#rest);
      this.#capturedAt = view.size;
    }
    const captured = this.#captured;
    let entry: RangeEntry;
    if (next === null || (captured !== null && !comesFirst(next.key, captured.key, this.#reverse))) {
      if (captured === null) {
        this.#next = null;
        return null;
      }
      entry = captured;
      this.#capturedAt = -1;
      // The same key on the live side is a fetch from before the capture: the same entry.
      this.#next = next !== null && next.key.equals(captured.key) ? undefined : next;
    } else {
      entry = next;
      this.#next = undefined;
    }
    this.#remaining--;
    if (this.#reverse) [this.#rest.upper, this.#rest.upperInclusive] = [entry.key, false];
    else [this.#rest.lower, this.#rest.lowerInclusive] = [entry.key, false];
    return entry;
  }
}

function comesFirst(a: Uint8Array, b: Uint8Array, reverse: boolean): boolean {
  const order = Buffer.compare(a, b);
  return reverse ? order > 0 : order < 0;
}

/** What an iteration hands out per entry, and whether that needs the entry's value. */
export interface Projection<T> {
  (entry: RangeEntry): T;
  readonly readsValues: boolean;
}

function projection<T>(project: (entry: RangeEntry) => T, readsValues: boolean): Projection<T> {
  return Object.assign(project, { readsValues });
}

export function keyProjection(state: StoreState): Projection<string | Uint8Array> {
  const encoding = state.options.keyEncoding;
  return projection((entry) => decodeKey(entry.key, encoding), false);
}

/** Values, verified: read with their batch, or when handed out. */
export function valueProjection<V>(state: StoreState): Projection<V> {
  const encoding = state.options.valueEncoding;
  return projection((entry) => decodeValue(readEntry(state, entry), encoding) as V, true);
}

export function entryProjection<V>(state: StoreState): Projection<[string | Uint8Array, V]> {
  const { keyEncoding, valueEncoding } = state.options;
  return projection((entry) => [decodeKey(entry.key, keyEncoding), decodeValue(readEntry(state, entry), valueEncoding) as V], true);
}
