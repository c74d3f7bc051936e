import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, frameBytes, sealFrameRun, writeFrameHeader, type KeyTable } from '@keel/core';
import { viewOf, writeU64 } from './format.js';
import { SNAPSHOT_CHUNK_BYTES } from './limits.js';
import type { Range, RangeEntry } from './range.js';
import { CHUNK_ENTRY_FIXED_BYTES, CHUNK_HEADER_BYTES, KIND_ENTRIES, SNAPSHOT_FORMAT, headerFrame, trailerFrame, type SnapshotMeta } from './snapshot-format.js';
import type { ViewOverlay } from './view-overlay.js';
import type { SliceClock } from './slices.js';
import type { StoreState } from './wal-kv.js';

/** Keys' worth of ordered-view refresh per native call: a few tenths of a millisecond of work (see SLICE_MILLISECONDS). */
const REFRESH_STEP_KEYS = 16 * 1024;

/** Slots of the ordered view one native call walks at most: well under a millisecond. */
const STEP_VISITS = 16 * 1024;

/**
 * The checkpoint frames of the index as `view` sees it (the view was opened when `meta`
 * was taken), encoded a slice at a time with a turn of the event loop between slices,
 * so that writes go on and no single step blocks for long. Entries come in key order, as
 * format version 3 requires: the live index's entries written by `meta.seq` are encoded
 * by the index itself, a run at a time, up to the next key the view captured (a key
 * written or removed since, whose entry as of `meta` the view holds), which is added
 * here. The result is byte for byte what a checkpoint taken in one step at `meta` would
 * be. The index's ordered view is brought up to date first, in slices too (at millions of
 * keys, merging the keys added since the last checkpoint, or sorting them all the first
 * time, takes tens of milliseconds to seconds).
 */
export async function encodeCheckpointInSlices(state: StoreState, view: ViewOverlay, meta: SnapshotMeta, clock: SliceClock): Promise<Uint8Array[]> {
  const table = state.index.table;
  await refreshOrderInSlices(table, clock);
  const frames: Uint8Array[] = [headerFrame(meta)];
  const chunk = new ChunkBuilder();
  // The refresh began after the view was opened, so the ordered view holds every key the
  // view sees from the live index; keys added since are newer than the view and left out.
  // What is left to encode: every key after `rest.lower`.
  const rest: Range = { lower: null, lowerInclusive: false, upper: null, upperInclusive: true, reverse: false, limit: Infinity };
  let entries = 0;
  for (;;) {
    const captured = view.first(rest);
    const stop = chunk.addLive(table, rest.lower, captured?.key ?? null, meta.seq);
    entries += chunk.lastAdded;
    if (chunk.lastAdded > 0) rest.lower = chunk.lastKey();
    if (stop === STOP_FULL) {
      const frame = chunk.finish();
      if (frame !== null) frames.push(frame);
    } else if (stop === STOP_REACHED_BOUND) {
      if (captured === null) break;
      const frame = chunk.add(captured);
      if (frame !== null) frames.push(frame);
      entries++;
      rest.lower = captured.key;
    }
    if (clock.due(STEP_VISITS)) await clock.pause();
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
export async function refreshOrderInSlices(table: KeyTable, clock: SliceClock): Promise<void> {
  while (!table.refreshOrderStep(REFRESH_STEP_KEYS)) if (clock.due(REFRESH_STEP_KEYS)) await clock.pause();
}

/** Why `KeyTable.checkpointEntries` stopped: every entry below the bound is written, the chunk is full, or its visits ran out. */
const STOP_REACHED_BOUND = 0;
const STOP_FULL = 1;

/**
 * Packs entries into entries chunks of about SNAPSHOT_CHUNK_BYTES, each returned as a
 * sealed frame when full: the fixed fields (after the chunk header) and the keys are
 * gathered apart, as the chunk lays them out, and joined when the chunk is finished.
 */
class ChunkBuilder {
  readonly #fixed = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES);
  readonly #view = viewOf(this.#fixed);
  readonly #keys = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES);
  readonly #written = new Float64Array(3);
  #fixedBytes = CHUNK_HEADER_BYTES;
  #keyBytes = 0;
  #count = 0;
  /** Entries the last `addLive` added. */
  lastAdded = 0;

  /** Live entries of the index after `after` and before `before`, as many as fit; returns why it stopped. */
  addLive(table: KeyTable, after: Uint8Array | null, before: Uint8Array | null, seq: number): number {
    const room = SNAPSHOT_CHUNK_BYTES - this.#fixedBytes - this.#keyBytes;
    table.checkpointEntries(after, before, seq, STEP_VISITS, room, this.#fixed, this.#fixedBytes, this.#keys, this.#keyBytes, this.#written);
    const [count, keyBytes, stop] = this.#written as unknown as [number, number, number];
    this.#fixedBytes += count * CHUNK_ENTRY_FIXED_BYTES;
    this.#keyBytes += keyBytes;
    this.#count += count;
    this.lastAdded = count;
    return stop;
  }

  /** A copy of the key of the last entry added. */
  lastKey(): Buffer {
    const length = this.#view.getUint16(this.#fixedBytes - CHUNK_ENTRY_FIXED_BYTES, true);
    return Buffer.from(this.#keys.subarray(this.#keyBytes - length, this.#keyBytes));
  }

  /** Adds an entry; returns the previous chunk's frame when this entry starts a new one. */
  add(entry: RangeEntry): Uint8Array | null {
    const bytes = CHUNK_ENTRY_FIXED_BYTES + entry.key.length;
    const full = this.#count > 0 && this.#fixedBytes + this.#keyBytes + bytes > SNAPSHOT_CHUNK_BYTES;
    const frame = full ? this.finish() : null;
    const at = this.#fixedBytes;
    this.#view.setUint16(at, entry.key.length, true);
    this.#view.setUint32(at + 2, entry.length, true);
    writeU64(this.#view, at + 6, entry.position);
    writeU64(this.#view, at + 14, entry.seq);
    this.#fixedBytes += CHUNK_ENTRY_FIXED_BYTES;
    this.#keys.set(entry.key, this.#keyBytes);
    this.#keyBytes += entry.key.length;
    this.#count++;
    return frame;
  }

  /**
   * The frame of the entries added since the last one, or null when there are none: the
   * two parts copied once, into the frame itself, which is then sealed in place.
   */
  finish(): Uint8Array | null {
    const count = this.#count;
    if (count === 0) return null;
    this.#fixed[0] = KIND_ENTRIES;
    this.#view.setUint32(1, count, true);
    const payloadBytes = this.#fixedBytes + this.#keyBytes;
    const frame = Buffer.allocUnsafe(frameBytes(payloadBytes));
    writeFrameHeader(frame, 0, payloadBytes, SNAPSHOT_FORMAT);
    this.#fixed.copy(frame, FRAME_HEADER_BYTES, 0, this.#fixedBytes);
    this.#keys.copy(frame, FRAME_HEADER_BYTES + this.#fixedBytes, 0, this.#keyBytes);
    sealFrameRun(frame);
    this.#fixedBytes = CHUNK_HEADER_BYTES;
    this.#keyBytes = 0;
    this.#count = 0;
    return frame;
  }
}
