import { FRAME_HEADER_BYTES, defineFrameFormat, encodeFrame } from '@keel/core';
import { Buffer } from 'node:buffer';
import { LOG_HEADER_FRAME_BYTES, STORE_ID_BYTES, VALUE_CRC_BYTES, readU64, viewOf, writeU64 } from './format.js';
import { KeyIndex } from './key-index.js';
import { KEY_BYTES_MAX, SNAPSHOT_CHUNK_BYTES, SNAPSHOT_FRAME_BYTES_MAX, VALUE_BYTES_MAX } from './limits.js';

/**
 * Bytes of a snapshot file `snapshot-<seq>.snap`: core frames with magic "WKVS", each
 * payload starting with a kind byte.
 *   1 header : version u16, generation u32, seq u64, log position u64, last frame offset u64,
 *              dead bytes u64, entry count u64, store id (16 bytes)
 *   2 entries: count u32, then per entry key length u16, value length u32, position u64,
 *              seq u64, then the keys of all entries back to back
 *   3 trailer: entry count u64, frame count u32
 * Every frame carries its CRC-32C; the trailer proves the file is complete.
 */
export const SNAPSHOT_FORMAT_VERSION = 2;
export const SNAPSHOT_FORMAT = defineFrameFormat(0x574b_5653, SNAPSHOT_FRAME_BYTES_MAX);
const KIND_HEADER = 1;
const KIND_ENTRIES = 2;
const KIND_TRAILER = 3;
const HEADER_PAYLOAD_BYTES = 47 + STORE_ID_BYTES;
const TRAILER_PAYLOAD_BYTES = 13;
const ENTRY_FIXED_BYTES = 22;
const ENTRIES_HEADER_BYTES = 5;

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

/** Serialises the index into snapshot frames (called synchronously, so it is consistent). */
export function encodeSnapshot(index: KeyIndex, meta: SnapshotMeta): Uint8Array[] {
  const frames: Uint8Array[] = [encodeFrame(encodeHeader(meta), SNAPSHOT_FORMAT)];
  let keys: string[] = [];
  let slots: number[] = [];
  let bytes = ENTRIES_HEADER_BYTES;
  for (const [key, slot] of index.slots) {
    if (keys.length > 0 && bytes + ENTRY_FIXED_BYTES + key.length > SNAPSHOT_CHUNK_BYTES) {
      frames.push(encodeFrame(encodeEntries(index, keys, slots, bytes), SNAPSHOT_FORMAT));
      keys = [];
      slots = [];
      bytes = ENTRIES_HEADER_BYTES;
    }
    keys.push(key);
    slots.push(slot);
    bytes += ENTRY_FIXED_BYTES + key.length;
  }
  if (keys.length > 0) frames.push(encodeFrame(encodeEntries(index, keys, slots, bytes), SNAPSHOT_FORMAT));
  const trailer = new Uint8Array(TRAILER_PAYLOAD_BYTES);
  trailer[0] = KIND_TRAILER;
  writeU64(viewOf(trailer), 1, meta.entryCount);
  viewOf(trailer).setUint32(9, frames.length + 1, true);
  frames.push(encodeFrame(trailer, SNAPSHOT_FORMAT));
  return frames;
}

/** One entries chunk: the fixed fields of every entry, then all keys back to back (one string to decode). */
function encodeEntries(index: KeyIndex, keys: readonly string[], slots: readonly number[], bytes: number): Uint8Array {
  const chunk = Buffer.allocUnsafe(bytes);
  const view = viewOf(chunk);
  chunk[0] = KIND_ENTRIES;
  view.setUint32(1, keys.length, true);
  let offset = ENTRIES_HEADER_BYTES;
  for (let i = 0; i < keys.length; i++) {
    const slot = slots[i]!;
    view.setUint16(offset, keys[i]!.length, true);
    view.setUint32(offset + 2, index.length(slot), true);
    writeU64(view, offset + 6, index.position(slot));
    writeU64(view, offset + 14, index.seq(slot));
    offset += ENTRY_FIXED_BYTES;
  }
  const written = chunk.write(keys.join(''), offset, 'latin1');
  if (offset + written !== bytes) throw new Error(`snapshot chunk holds ${offset + written} bytes, expected ${bytes}`);
  return chunk;
}

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

/** Adds the entries of one chunk to `index`, checking every field against `meta`. */
export function decodeEntries(payload: Uint8Array, meta: SnapshotMeta, index: KeyIndex): void {
  if (payload.length < ENTRIES_HEADER_BYTES || payload[0] !== KIND_ENTRIES) throw new SnapshotRejected('expected an entries frame');
  const view = viewOf(payload);
  const count = view.getUint32(1, true);
  const keysStart = ENTRIES_HEADER_BYTES + count * ENTRY_FIXED_BYTES;
  if (keysStart > payload.length) throw new SnapshotRejected(`entries frame too short for ${count} entries`);
  // All keys of the chunk decode as one string; each key is a slice of it.
  const keys = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1', keysStart);
  let keyOffset = 0;
  for (let i = 0; i < count; i++) {
    const offset = ENTRIES_HEADER_BYTES + i * ENTRY_FIXED_BYTES;
    const keyLength = view.getUint16(offset, true);
    const length = view.getUint32(offset + 2, true);
    const position = readU64(view, offset + 6);
    const seq = readU64(view, offset + 14);
    if (keyLength === 0 || keyLength > KEY_BYTES_MAX || keyOffset + keyLength > keys.length) throw new SnapshotRejected(`bad key length ${keyLength}`);
    if (length > VALUE_BYTES_MAX || position === null || seq === null || seq > meta.seq) throw new SnapshotRejected('bad entry field');
    if (position < LOG_HEADER_FRAME_BYTES || position + VALUE_CRC_BYTES + length > meta.logPosition) throw new SnapshotRejected('entry points outside the covered log');
    const key = keys.slice(keyOffset, keyOffset + keyLength);
    keyOffset += keyLength;
    if (!index.insertNew(key, position, length, seq)) throw new SnapshotRejected('duplicate key');
  }
  if (keyOffset !== keys.length) throw new SnapshotRejected('bytes after the last key');
}

export function decodeTrailer(payload: Uint8Array, meta: SnapshotMeta, frames: number): void {
  if (payload.length !== TRAILER_PAYLOAD_BYTES || payload[0] !== KIND_TRAILER) throw new SnapshotRejected('missing trailer');
  const view = viewOf(payload);
  if (readU64(view, 1) !== meta.entryCount || view.getUint32(9, true) !== frames) throw new SnapshotRejected('trailer counts do not match');
}

export function isTrailer(payload: Uint8Array): boolean {
  return payload[0] === KIND_TRAILER;
}
