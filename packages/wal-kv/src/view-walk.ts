import { Buffer } from 'node:buffer';
import { decodeKey, decodeValue } from './encoding.js';
import { rangeEntries, type Range, type RangeEntry } from './range.js';
import { overlayKey, type ViewOverlay } from './view-overlay.js';
import { readEntry } from './views.js';
import type { StoreState } from './wal-kv.js';

/**
 * The entries of `range` as `view` sees them: the live index walked in key order, minus
 * the keys written since the view was created, merged with what the view captured of
 * those keys (their entries at creation). Both sides are consulted again at every step,
 * so writes between steps (even to keys the walk has already fetched) never show.
 * `assertOpen` runs before each step.
 */
export function* walkView(state: StoreState, view: ViewOverlay, range: Range, assertOpen: () => void): Generator<RangeEntry> {
  assertOpen();
  const live = rangeEntries(state.index, { ...range, limit: Infinity }, () => {
    assertOpen();
    return state.generation;
  });
  // What is left of the range once entries are yielded: the captured side is searched in it.
  const rest: Range = { ...range };
  let next = live.next();
  // The first captured entry left in the range, searched again only after a capture or once it is yielded.
  let captured: RangeEntry | null = null;
  let capturedAt = -1;
  for (let remaining = range.limit; remaining > 0; remaining--) {
    while (!next.done && view.size > 0 && view.has(overlayKey(next.value.key))) next = live.next();
    if (capturedAt !== view.size) {
      captured = view.first(rest);
      capturedAt = view.size;
    }
    let entry: RangeEntry;
    if (next.done) {
      if (captured === null) return;
      entry = captured;
    } else if (captured === null || comesFirst(next.value.key, captured.key, range.reverse)) {
      entry = next.value;
      next = live.next();
    } else {
      entry = captured;
    }
    if (entry === captured) capturedAt = -1;
    assertOpen();
    yield entry;
    if (range.reverse) [rest.upper, rest.upperInclusive] = [entry.key, false];
    else [rest.lower, rest.lowerInclusive] = [entry.key, false];
  }
}

function comesFirst(a: Uint8Array, b: Uint8Array, reverse: boolean): boolean {
  const order = Buffer.compare(a, b);
  return reverse ? order > 0 : order < 0;
}

export function* keysOf(walk: Iterable<RangeEntry>, state: StoreState): Generator<string | Uint8Array> {
  const encoding = state.options.keyEncoding;
  for (const entry of walk) yield decodeKey(entry.key, encoding);
}

/** Values, each read and verified when it is yielded. */
export function* valuesOf<V>(walk: Iterable<RangeEntry>, state: StoreState): Generator<V> {
  for (const entry of walk) yield decodeValue(readEntry(state, entry), state.options.valueEncoding) as V;
}

export function* entriesOf<V>(walk: Iterable<RangeEntry>, state: StoreState): Generator<[string | Uint8Array, V]> {
  const { keyEncoding, valueEncoding } = state.options;
  for (const entry of walk) yield [decodeKey(entry.key, keyEncoding), decodeValue(readEntry(state, entry), valueEncoding) as V];
}
