import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, badArgument, sealFrameRun } from '@keel/core';
import { BATCH_FRAME_BYTES_TARGET, BATCH_HEADER_BYTES, BATCH_MAGIC, RECORD_BYTES_MAX } from './format.js';
import type { FrameTable } from './frame-table.js';
import { recordBodyBytes, type PreparedBatch, type PreparedHeaders } from './record.js';
import { VARINT_BYTES_MAX, ZIGZAG_MAGNITUDE_MAX, varintBytes, writeVarint, zigzag } from './varint.js';

/**
 * Batch frame payload, little-endian (README "Format"):
 *   base offset u64 · record count u32 · base timestamp i64 · the records, each:
 *   timestamp delta (zigzag varint, from the base) · key length + 1 (varint; 0 = no key) · key ·
 *   value length (varint) · value · header count (varint) · per header: name length (varint) ·
 *   name (UTF-8) · value length (varint) · value
 */

const TWO_POW_32 = 2 ** 32;
/** Where a frame's first record starts, from the frame's start. */
const RECORDS_AT = FRAME_HEADER_BYTES + BATCH_HEADER_BYTES;

/** What ends a run early: the segment it goes into. */
export interface RunLimits {
  /** Bytes the run may take (the segment's room). */
  roomBytes: number;
  /** A record newer than this ends the run (the segment's first timestamp plus `segmentMs`). */
  timestampMax: number;
  /** The segment holds no record yet: its first record is taken whatever its size and timestamp, so every record fits somewhere. */
  segmentEmpty: boolean;
  /** After the first record, a run stops before it would pass this many bytes (one write's worth). */
  writeBytesMax: number;
  /**
   * A segment that holds records takes the run whole or not at all: when a record would
   * break its room or its age, nothing is taken (the caller rolls first). The write
   * limit still splits a run.
   */
  whole: boolean;
}

/**
 * Frames records of `batch` from `from` into `target` (from byte 0) as batch frames,
 * numbering them from `firstOffset`, until the batch ends or the next record would break
 * a limit (or not fit `target`, which holds at least the first record's bound), and
 * returns how many it took; `frames` is filled with where the frames lie, and the run
 * ends at the last frame's end. A frame takes the next record while it stays within
 * BATCH_FRAME_BYTES_TARGET bytes and the record's timestamp is within a zigzag varint of
 * the frame's first (else the record starts a frame). Payloads are written in place
 * through one DataView, then the CRCs of the whole run are filled in by one native call.
 * Every record was bounded by `prepareBatch`; its size is worked out again here from the
 * same fields (`recordBodyBytes`), and a record that no longer fits the bound (a caller's
 * getter resized a buffer it had already handed over) throws before its run is written.
 */
export function encodeBatchRun(target: Uint8Array, view: DataView, batch: PreparedBatch, from: number, firstOffset: number, limits: RunLimits, frames: FrameTable): number {
  // Everything the loop reads, in locals: it runs once per record.
  const { count, values, keys, timestamps, now, headers } = batch;
  const { roomBytes, timestampMax } = limits;
  const bounded = !limits.segmentEmpty;
  const writeBytesMax = Math.min(limits.writeBytesMax, target.length);
  frames.reset();
  // The open frame: where it starts (-1: none yet), where its records must end to keep it
  // within BATCH_FRAME_BYTES_TARGET with its CRC, its first record and timestamp.
  let frameStart = -1;
  let frameLimit = -1;
  let frameFirst = from;
  let frameTimestamp = 0;
  let frameOffset = firstOffset;
  // Where the next record goes.
  let position = 0;
  let index = from;
  for (; index < count; index++) {
    const timestamp = timestamps === null ? now : (timestamps[index] as number);
    const value = values[index] as Uint8Array;
    const key = keys === null ? null : (keys[index] as Uint8Array | null);
    const recordHeaders = headers === null ? null : (headers[index] as PreparedHeaders | null);
    const body = recordBodyBytes(value, key, recordHeaders);
    if (body + VARINT_BYTES_MAX > RECORD_BYTES_MAX) throw badArgument(`records[${index}] changed size while it was being appended`);
    const delta = timestamp - frameTimestamp;
    let zigzagged = 0;
    let deltaBytes = 1;
    let joins = false;
    if (frameStart >= 0) {
      // A delta of 0 is the common case (records that gave no timestamp share the append's).
      if (delta === 0) joins = position + 1 + body <= frameLimit;
      else if (delta <= ZIGZAG_MAGNITUDE_MAX && delta >= -ZIGZAG_MAGNITUDE_MAX) {
        zigzagged = zigzag(delta);
        deltaBytes = zigzagged < 0x80 ? 1 : varintBytes(zigzagged);
        joins = position + deltaBytes + body <= frameLimit;
      }
    }
    // A record that does not join the open frame starts one where that frame ends, with delta 0: one byte.
    if (!joins) {
      zigzagged = 0;
      deltaBytes = 1;
    }
    const recordStart = joins ? position : (frameStart >= 0 ? position + FRAME_TRAILER_BYTES : 0) + RECORDS_AT;
    const recordEnd = recordStart + deltaBytes + body;
    const runEnd = recordEnd + FRAME_TRAILER_BYTES;
    if ((index > from || bounded) && (runEnd > roomBytes || timestamp > timestampMax)) {
      if (bounded && limits.whole) return 0;
      break;
    }
    if (index > from && runEnd > writeBytesMax) break;
    if (!joins) {
      if (frameStart >= 0) {
        closeFrame(view, frameStart, position, frameOffset, index - frameFirst, frameTimestamp);
        frames.push(frameFirst, position + FRAME_TRAILER_BYTES);
        frameOffset += index - frameFirst;
      }
      frameStart = recordStart - RECORDS_AT;
      frameLimit = frameStart + BATCH_FRAME_BYTES_TARGET - FRAME_TRAILER_BYTES;
      frameFirst = index;
      frameTimestamp = timestamp;
    }
    position = writeRecord(target, recordStart, zigzagged, key, value, recordHeaders);
    if (position !== recordEnd) throw new Error('record encoding disagrees with its prepared size');
  }
  if (frameStart < 0) return 0;
  closeFrame(view, frameStart, position, frameOffset, index - frameFirst, frameTimestamp);
  frames.push(frameFirst, position + FRAME_TRAILER_BYTES);
  sealFrameRun(target.subarray(0, position + FRAME_TRAILER_BYTES));
  return index - from;
}

/** The frame's header and batch header, once its records are written up to `recordsEnd` (its CRC slot follows). */
function closeFrame(view: DataView, start: number, recordsEnd: number, baseOffset: number, count: number, baseTimestamp: number): void {
  view.setUint32(start, BATCH_MAGIC, false);
  view.setUint32(start + 4, recordsEnd - start - FRAME_HEADER_BYTES, true);
  view.setUint32(start + 8, baseOffset % TWO_POW_32, true);
  view.setUint32(start + 12, Math.floor(baseOffset / TWO_POW_32), true);
  view.setUint32(start + 16, count, true);
  const timestampHigh = Math.floor(baseTimestamp / TWO_POW_32);
  view.setUint32(start + 20, baseTimestamp - timestampHigh * TWO_POW_32, true);
  view.setInt32(start + 24, timestampHigh, true);
}

/** The common fields take one byte each (no key, no headers, a short delta or value), written here without a call. */
function writeRecord(target: Uint8Array, at: number, zigzagged: number, key: Uint8Array | null, value: Uint8Array, headers: PreparedHeaders | null): number {
  let cursor = zigzagged < 0x80 ? ((target[at] = zigzagged), at + 1) : writeVarint(target, at, zigzagged);
  if (key === null) target[cursor++] = 0;
  else cursor = writeSized(target, writeVarint(target, cursor, key.length + 1), key);
  const length = value.length;
  cursor = length < 0x80 ? ((target[cursor] = length), cursor + 1) : writeVarint(target, cursor, length);
  target.set(value, cursor);
  cursor += length;
  if (headers === null) target[cursor++] = 0;
  else cursor = writeHeaders(target, cursor, headers);
  return cursor;
}

function writeSized(target: Uint8Array, at: number, bytes: Uint8Array): number {
  target.set(bytes, at);
  return at + bytes.length;
}

function writeHeaders(target: Uint8Array, at: number, headers: PreparedHeaders): number {
  let cursor = writeVarint(target, at, headers.names.length);
  for (let header = 0; header < headers.names.length; header++) {
    const name = headers.names[header] as Uint8Array;
    const value = headers.values[header] as Uint8Array;
    cursor = writeSized(target, writeVarint(target, cursor, name.length), name);
    cursor = writeSized(target, writeVarint(target, cursor, value.length), value);
  }
  return cursor;
}
