import { FRAME_HEADER_BYTES, defineFrameFormat, encodeFrame } from '@keel/core';
import { LOG_HEADER_FRAME_BYTES, STORE_ID_BYTES, readU64, viewOf, writeU64 } from './format.js';
import type { KeyIndex } from './key-index.js';
import { SNAPSHOT_FRAME_BYTES_MAX } from './limits.js';

/**
 * Bytes of a checkpoint file `snapshot-<seq>.snap`: core frames with magic "WKVS", each
 * payload starting with a kind byte.
 *   1 header : version u16, generation u32, seq u64, log position u64, last frame offset u64,
 *              dead bytes u64, entry count u64, store id (16 bytes)
 *   2 entries: count u32, then per entry key length u16, value length u32, position u64,
 *              seq u64, then the keys of all entries back to back
 *   3 trailer: entry count u64, frame count u32
 * Every frame carries its CRC-32C; the trailer proves the file is complete. Version 3:
 * the entries are in strictly increasing key byte order across the file (version 2 had
 * them in any order), which the index checks as it loads them (no duplicate check, and
 * the ordered view for ranges comes for free). Entries chunks are encoded and loaded by
 * the index itself, one native call per chunk.
 */
export const SNAPSHOT_FORMAT_VERSION = 3;
export const SNAPSHOT_FORMAT = defineFrameFormat(0x574b_5653, SNAPSHOT_FRAME_BYTES_MAX);
const KIND_HEADER = 1;
const KIND_ENTRIES = 2;
const KIND_TRAILER = 3;
const HEADER_PAYLOAD_BYTES = 47 + STORE_ID_BYTES;
const TRAILER_PAYLOAD_BYTES = 13;

export interface SnapshotMeta {
  /** The store's identity: a snapshot copied from another store is foreign. */
  storeId: Uint8Array;
  generation: number;
  seq: number;
  /** Log offset the snapshot covers: replay continues from here. */
  logPosition: number;
  /** Offset of the record frame that ends at `logPosition` (checked on load). */
  lastFrameOffset: number;
  deadBytes: number;
  entryCount: number;
}

export function headerFrame(meta: SnapshotMeta): Uint8Array {
  return encodeFrame(encodeHeader(meta), SNAPSHOT_FORMAT);
}

/** The last frame: the entry count and the number of frames, itself included. */
export function trailerFrame(meta: SnapshotMeta, frames: number): Uint8Array {
  const trailer = new Uint8Array(TRAILER_PAYLOAD_BYTES);
  trailer[0] = KIND_TRAILER;
  writeU64(viewOf(trailer), 1, meta.entryCount);
  viewOf(trailer).setUint32(9, frames, true);
  return encodeFrame(trailer, SNAPSHOT_FORMAT);
}

/** Per entry of an entries chunk: key length u16, value length u32, position u64, seq u64. */
export const CHUNK_ENTRY_FIXED_BYTES = 22;
/** Kind u8 and count u32. */
export const CHUNK_HEADER_BYTES = 5;
export { KIND_ENTRIES };

function encodeHeader(meta: SnapshotMeta): Uint8Array {
  const payload = new Uint8Array(HEADER_PAYLOAD_BYTES);
  const view = viewOf(payload);
  payload[0] = KIND_HEADER;
  view.setUint16(1, SNAPSHOT_FORMAT_VERSION, true);
  view.setUint32(3, meta.generation, true);
  writeU64(view, 7, meta.seq);
  writeU64(view, 15, meta.logPosition);
  writeU64(view, 23, meta.lastFrameOffset);
  writeU64(view, 31, meta.deadBytes);
  writeU64(view, 39, meta.entryCount);
  payload.set(meta.storeId, 47);
  return payload;
}

/** What every snapshot starts with (frame magic, header length, kind, version): a `.tmp` snapshot that does not is not ours. */
export const SNAPSHOT_SIGNATURE = encodeFrame(encodeHeader({ storeId: new Uint8Array(STORE_ID_BYTES), generation: 0, seq: 0, logPosition: 0, lastFrameOffset: 0, deadBytes: 0, entryCount: 0 }), SNAPSHOT_FORMAT).subarray(0, FRAME_HEADER_BYTES + 3);

/** Thrown for anything that makes a snapshot unusable; the caller ignores the snapshot. */
export class SnapshotRejected extends Error {}

export function decodeHeader(payload: Uint8Array): SnapshotMeta {
  if (payload.length !== HEADER_PAYLOAD_BYTES || payload[0] !== KIND_HEADER) throw new SnapshotRejected('first frame is not a snapshot header');
  const view = viewOf(payload);
  const version = view.getUint16(1, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotRejected(`format version ${version}`);
  const fields = [7, 15, 23, 31, 39].map((offset) => readU64(view, offset));
  if (fields.some((field) => field === null)) throw new SnapshotRejected('a field is beyond 2^53');
  const [seq, logPosition, lastFrameOffset, deadBytes, entryCount] = fields as number[];
  return { storeId: payload.slice(47, 47 + STORE_ID_BYTES), generation: view.getUint32(3, true), seq, logPosition, lastFrameOffset, deadBytes, entryCount } as SnapshotMeta;
}

/**
 * Starts loading a checkpoint file of `fileBytes` whose header is `meta` (its entry count
 * already bounded by keysMax; the index also refuses a count the file cannot hold).
 */
export function beginEntries(index: KeyIndex, meta: SnapshotMeta, fileBytes: number): void {
  index.deadBytes = meta.deadBytes;
  nativeCheck(() => index.table.beginLoad(meta.entryCount, fileBytes, LOG_HEADER_FRAME_BYTES, meta.logPosition, meta.seq));
}

/** Adds the entries of one chunk to `index`; the index checks every field (see the README's FORMAT). */
export function decodeEntries(payload: Uint8Array, index: KeyIndex): void {
  nativeCheck(() => index.table.loadChunk(payload));
}

/** Ends the load: every entry the header counts must have come. */
export function finishEntries(index: KeyIndex): void {
  nativeCheck(() => index.table.finishLoad());
}

/** A chunk the index refuses (code InvalidArg, the reason as message) makes the checkpoint unusable. */
function nativeCheck(load: () => void): void {
  try {
    load();
  } catch (error) {
    throw new SnapshotRejected((error as Error).message);
  }
}

export function decodeTrailer(payload: Uint8Array, meta: SnapshotMeta, frames: number): void {
  if (payload.length !== TRAILER_PAYLOAD_BYTES || payload[0] !== KIND_TRAILER) throw new SnapshotRejected('missing trailer');
  const view = viewOf(payload);
  if (readU64(view, 1) !== meta.entryCount || view.getUint32(9, true) !== frames) throw new SnapshotRejected('trailer counts do not match');
}

export function isTrailer(payload: Uint8Array): boolean {
  return payload[0] === KIND_TRAILER;
}
