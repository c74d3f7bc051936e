import { Buffer } from 'node:buffer';
import { decodeValue } from './encoding.js';
import { BatchEntry, IndexCursor, RANGE_BATCH_ENTRIES, type BatchSource, type Range, type RangeEntry } from './range.js';
import { ValueRun } from './value-run.js';
import type { ViewOverlay } from './view-overlay.js';
import { readEntry } from './views.js';
import type { StoreState } from './wal-kv.js';

/** What a walk asks before every step: that the store (or read view) it reads through is still open. */
export interface OpenGuard {
  assertOpen(): void;
}

/**
 * The latest walk of each store, kept until the next one starts. V8's optimised code
 * holds the object shapes (maps) it was compiled for weakly, and a shape no live object
 * has dies at the next garbage collection, taking with it the optimised code of every
 * function that used it: with the walk objects of a finished walk all collected, the next
 * walk started again in unoptimised code. Measured with a collection before every walk
 * of 1M entries, keeping the last walk alive took a walk of the whole store from about
 * 550 to 300 ms of CPU, and of half of it from 220 to 150 ms. It holds one batch of keys
 * and values (at most VALUE_RUN_BYTES_MAX) and the walk's own view overlay; it keeps
 * nothing open or pinned on disk (a view pins only while registered, see `releaseView`).
 */
const latestWalks = new WeakMap<StoreState, ViewCursor>();

/**
 * The entries of `range` as `view` sees them: the live index walked in key order, minus
 * the entries written since the view was created (newer seqs), merged with what the view
 * captured of those keys (their entries at creation). Both sides are consulted again at
 * every step, so writes between steps never show; a live entry fetched before a write
 * captured it meets its captured twin in the merge, and only one of the two is handed
 * out. `guard.assertOpen()` runs before each step. `catchUp` false: the index's ordered view
 * was brought up to date after the view was opened, so the walk need not catch up first.
 * `readsValues`: the live entries' values are read a batch at a time (see `ValueRun`).
 *
 * A walk creates no closure of its own: the guard lives as long as its store or view and
 * the projections as long as the store (`storeProjections`), so the calls a step makes
 * go to the same functions walk after walk.
 */
export class ViewCursor implements BatchSource {
  readonly #state: StoreState;
  readonly #view: ViewOverlay;
  readonly #live: IndexCursor;
  readonly #reverse: boolean;
  readonly #guard: OpenGuard;
  /** What is left of the range once entries are handed out: the captured side is searched in it. */
  readonly #rest: Range;
  #remaining: number;
  /** The last entry handed out: `#rest` starts after it (narrowed only when the captured side is searched). */
  #last: RangeEntry | null = null;
  /** The live entry fetched but not handed out yet (undefined: none fetched). */
  #next: RangeEntry | null | undefined = undefined;
  /** The first captured entry left in the range, searched again only after a capture or once it is handed out. */
  #captured: RangeEntry | null = null;
  #capturedAt = -1;

  constructor(state: StoreState, view: ViewOverlay, range: Range, guard: OpenGuard, catchUp = true, readsValues = false) {
    this.#state = state;
    this.#view = view;
    this.#reverse = range.reverse;
    this.#guard = guard;
    this.#rest = { ...range };
    this.#remaining = range.limit;
    this.#live = new IndexCursor(state.index, { ...range, limit: Infinity }, this, catchUp, readsValues ? new ValueRun(state, RANGE_BATCH_ENTRIES) : null);
    latestWalks.set(state, this);
  }

  /** Before each batch of the live side: the store is still open; the generation its fields belong to. */
  beforeBatch(): number {
    this.#guard.assertOpen();
    return this.#state.generation;
  }

  /** The next entry, or null at the end of the range. */
  next(): RangeEntry | null {
    this.#guard.assertOpen();
    if (this.#remaining <= 0) return null;
    const view = this.#view;
    let next = this.#next === undefined ? this.#live.next() : this.#next;
    while (next !== null && next.seq > view.seq) next = this.#live.next();
    if (this.#capturedAt !== view.size) {
      this.#narrowRest();
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
    this.#last = entry;
    return entry;
  }

  /** Moves the start of `#rest` past the last entry handed out. */
  #narrowRest(): void {
    const last = this.#last;
    if (last === null) return;
    if (this.#reverse) [this.#rest.upper, this.#rest.upperInclusive] = [last.key, false];
    else [this.#rest.lower, this.#rest.lowerInclusive] = [last.key, false];
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

/** The three projections of a store, made once per store (see `ViewCursor` for why not per walk). */
export interface Projections<V> {
  readonly keys: Projection<string | Uint8Array>;
  readonly values: Projection<V>;
  readonly entries: Projection<[string | Uint8Array, V]>;
}

const projectionsOfStore = new WeakMap<StoreState, Projections<unknown>>();

export function storeProjections<V>(state: StoreState): Projections<V> {
  let projections = projectionsOfStore.get(state);
  if (projections === undefined) projectionsOfStore.set(state, (projections = makeProjections(state)));
  return projections as Projections<V>;
}

function makeProjections(state: StoreState): Projections<unknown> {
  const { keyEncoding, valueEncoding } = state.options;
  const keyOf: (entry: RangeEntry) => string | Uint8Array = keyEncoding === 'utf8' ? keyText : (entry) => entry.key;
  return {
    keys: projection(keyOf, false),
    // Values, verified: read with their batch, or when handed out.
    values: projection((entry) => decodeValue(readEntry(state, entry), valueEncoding), true),
    entries: projection((entry) => [keyOf(entry), decodeValue(readEntry(state, entry), valueEncoding)], true),
  };
}

function projection<T>(project: (entry: RangeEntry) => T, readsValues: boolean): Projection<T> {
  return Object.assign(project, { readsValues });
}

/** A key as a string: a slice of its batch's text where it has one (see `KeyBatch`). */
function keyText(entry: RangeEntry): string {
  return entry instanceof BatchEntry ? entry.keyText() : entry.key.toString('utf8');
}
