import { KeelError } from '@keel/core';
import { decodeValue, keyBytesOf, type Key } from './encoding.js';
import { normalizeRange, type RangeEntry, type RangeOptions } from './range.js';
import { overlayKey, type ViewOverlay } from './view-overlay.js';
import { ReleasingIterator } from './releasing-iterator.js';
import { storeProjections, ViewCursor, type OpenGuard, type Projection } from './view-walk.js';
import { currentEntry, openView, readEntry, releaseView } from './views.js';
import type { StoreState } from './wal-kv.js';

/**
 * A read-only view of the store as it was when `kv.snapshot()` created it: later writes,
 * deletes and compactions do not show in its reads. It pins the log generations it may
 * read (a compaction meanwhile keeps the older log file until the view is released) and,
 * for every key that existed at creation and was overwritten or deleted while it is
 * open, that key's entry at creation (a few hundred bytes of JavaScript objects plus the
 * key); keys created meanwhile cost nothing. Release it with `close()` or
 * `using view = kv.snapshot()`; closing the store releases it too.
 */
export class ReadView<V> implements Disposable {
  readonly #state: StoreState;
  readonly #view: ViewOverlay;
  readonly #assertStoreOpen: () => void;
  /** What this view's iterators check at every step (one per view, not a closure per iterator). */
  readonly #guard: OpenGuard = { assertOpen: () => this.#assertOpen() };
  #closed = false;

  /** @internal Made by `WalKv.snapshot()`. */
  constructor(state: StoreState, assertStoreOpen: () => void) {
    this.#state = state;
    this.#assertStoreOpen = assertStoreOpen;
    this.#view = openView(state);
  }

  /** The value of `key` when the view was created, verified against its CRC-32C, or undefined. */
  get(key: Key): V | undefined {
    this.#assertOpen();
    const entry = this.#entryOf(key);
    return entry === null ? undefined : (decodeValue(readEntry(this.#state, entry), this.#state.options.valueEncoding) as V);
  }

  has(key: Key): boolean {
    this.#assertOpen();
    return this.#entryOf(key) !== null;
  }

  /** The number of keys when the view was created. */
  get size(): number {
    this.#assertOpen();
    return this.#view.keys;
  }

  keys(options: RangeOptions = {}): IterableIterator<string | Uint8Array> {
    return this.#iterate(options, storeProjections<V>(this.#state).keys);
  }

  values(options: RangeOptions = {}): IterableIterator<V> {
    return this.#iterate(options, storeProjections<V>(this.#state).values);
  }

  entries(options: RangeOptions = {}): IterableIterator<[string | Uint8Array, V]> {
    return this.#iterate(options, storeProjections<V>(this.#state).entries);
  }

  /** Releases the view (idempotent): what it pinned may go, and its reads throw KEEL_CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseView(this.#state, this.#view);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Iterators of a view read through the view itself: nothing of their own to release. */
  #iterate<T>(options: RangeOptions, project: Projection<T>): IterableIterator<T> {
    this.#assertOpen();
    return new ReleasingIterator(new ViewCursor(this.#state, this.#view, normalizeRange(options), this.#guard, true, project.readsValues), project, null);
  }

  #entryOf(key: Key): RangeEntry | null {
    const bytes = keyBytesOf(key);
    const live = currentEntry(this.#state, bytes);
    if (live !== null && live.seq <= this.#view.seq) return live;
    // Written or deleted since: the entry captured then, or none (the key did not exist).
    return this.#view.size === 0 ? null : (this.#view.get(overlayKey(bytes)) ?? null);
  }

  #assertOpen(): void {
    this.#assertStoreOpen();
    if (this.#closed) throw new KeelError('KEEL_CLOSED', 'this read view was used after close()');
  }
}
