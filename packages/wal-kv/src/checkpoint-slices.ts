import { Buffer } from 'node:buffer';
import { encodeFrame, type KeyTable } from '@keel/core';
import { viewOf, writeU64 } from './format.js';
import { SNAPSHOT_CHUNK_BYTES } from './limits.js';
import type { Range, RangeEntry } from './range.js';
import { CHUNK_ENTRY_FIXED_BYTES, CHUNK_HEADER_BYTES, KIND_ENTRIES, SNAPSHOT_FORMAT, headerFrame, trailerFrame, type SnapshotMeta } from './snapshot-format.js';
import type { ViewOverlay } from './view-overlay.js';
import { ViewCursor } from './view-walk.js';
import type { SliceClock } from './slices.js';
import type { StoreState } from './wal-kv.js';

/** Keys' worth of ordered-view refresh per native call: a millisecond or two of work. */
const REFRESH_STEP_KEYS = 64 * 1024;

const WHOLE_RANGE: Range = { lower: null, lowerInclusive: true, upper: null, upperInclusive: true, reverse: false, limit: Infinity };

/**
 * The checkpoint frames of the index as `view` sees it (the view was opened when `meta`
 * was taken), encoded a slice at a time with a turn of the event loop between slices,
 * so that writes go on and no single step blocks for long. Entries come in key order, as
 * format version 3 requires, from the live index and from what the view captured of the
 * keys written meanwhile: the result is byte for byte what a checkpoint taken in one
 * step at `meta` would be. The index's ordered view is brought up to date first, in
 * slices too (at millions of keys, merging the keys added since the last checkpoint, or
 * sorting them all the first time, takes tens of milliseconds to seconds).
 */
export async function encodeCheckpointInSlices(state: StoreState, view: ViewOverlay, meta: SnapshotMeta, clock: SliceClock): Promise<Uint8Array[]> {
  await refreshOrderInSlices(state.index.table, clock);
  const frames: Uint8Array[] = [headerFrame(meta)];
  const chunk = new ChunkBuilder();
  let entries = 0;
  // The refresh began after the view was opened, so the ordered view holds every key the
  // view sees from the live index: the walk need not catch up with keys added since
  // (the view hides them), which would be one more blocking merge.
  const cursor = new ViewCursor(state, view, WHOLE_RANGE, () => undefined, false);
  for (let entry = cursor.next(); entry !== null; entry = cursor.next()) {
    const frame = chunk.add(entry);
    if (frame !== null) frames.push(frame);
    entries++;
    if (clock.due()) await clock.pause();
  }
  const last = chunk.finish();
  if (last !== null) frames.push(last);
  if (entries !== meta.entryCount) throw new Error(`checkpoint walked ${entries} entries, the index held ${meta.entryCount}`);
  frames.push(trailerFrame(meta, frames.length + 1));
  return frames;
}

/**
 * Brings the index's ordered view up to date (as of the call) a slice at a time; keys
 * added between slices are left for the next refresh.
 */
async function refreshOrderInSlices(table: KeyTable, clock: SliceClock): Promise<void> {
  while (!table.refreshOrderStep(REFRESH_STEP_KEYS)) if (clock.due(REFRESH_STEP_KEYS)) await clock.pause();
}

/** Packs entries into entries chunks of about SNAPSHOT_CHUNK_BYTES, each returned as a sealed frame when full. */
class ChunkBuilder {
  #fixed = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES);
  #view = viewOf(this.#fixed);
  #fixedBytes = CHUNK_HEADER_BYTES;
  #keys: Buffer[] = [];
  #keyBytes = 0;

  /** Adds an entry; returns the previous chunk's frame when this entry starts a new one. */
  add(entry: RangeEntry): Uint8Array | null {
    const bytes = CHUNK_ENTRY_FIXED_BYTES + entry.key.length;
    const full = this.#keys.length > 0 && this.#fixedBytes + this.#keyBytes + bytes > SNAPSHOT_CHUNK_BYTES;
    const frame = full ? this.finish() : null;
    const at = this.#fixedBytes;
    this.#view.setUint16(at, entry.key.length, true);
    this.#view.setUint32(at + 2, entry.length, true);
    writeU64(this.#view, at + 6, entry.position);
    writeU64(this.#view, at + 14, entry.seq);
    this.#fixedBytes += CHUNK_ENTRY_FIXED_BYTES;
    this.#keys.push(entry.key);
    this.#keyBytes += entry.key.length;
    return frame;
  }

  /** The frame of the entries added since the last one, or null when there are none. */
  finish(): Uint8Array | null {
    const count = this.#keys.length;
    if (count === 0) return null;
    this.#fixed[0] = KIND_ENTRIES;
    this.#view.setUint32(1, count, true);
    const payload = Buffer.concat([this.#fixed.subarray(0, this.#fixedBytes), ...this.#keys], this.#fixedBytes + this.#keyBytes);
    this.#fixedBytes = CHUNK_HEADER_BYTES;
    this.#keys = [];
    this.#keyBytes = 0;
    return encodeFrame(payload, SNAPSHOT_FORMAT);
  }
}
