import { FRAME_OVERHEAD_BYTES, sealFrameRun } from '@keel/core';
import { KEY_NULL, RECORD_MAGIC } from './format.js';
import type { PreparedBatch, PreparedHeaders } from './record.js';

/**
 * Record payload, little-endian:
 *   offset u64 · timestamp i64 · key length i32 (-1 = null) · key · value length u32 ·
 *   value · header count u16 · per header: name length u16 · name (UTF-8) · value length u32 · value
 */

const TWO_POW_32 = 2 ** 32;

/**
 * Frames records [from, to) of `batch` into `target` from `at`, numbering them from
 * `firstOffset`, and returns the end. The payloads are written in place through one
 * DataView (no buffer per record), then the CRCs of the whole run are filled in by one
 * native call. Every record's size was fixed and bounded by `prepareBatch`; a frame that
 * comes out any other size is an encoder bug and throws before anything is written.
 */
export function encodeRecordRun(target: Uint8Array, view: DataView, at: number, batch: PreparedBatch, from: number, to: number, firstOffset: number): number {
  const { values, keys, timestamps, frameBytes, headers } = batch;
  let position = at;
  // Offsets are consecutive: carry the u64 as two u32 halves instead of dividing per record.
  let offsetLow = firstOffset % TWO_POW_32;
  let offsetHigh = Math.floor(firstOffset / TWO_POW_32);
  for (let index = from; index < to; index++) {
    const frameEnd = position + (frameBytes[index] as number);
    const timestamp = timestamps[index] as number;
    const timestampHigh = Math.floor(timestamp / TWO_POW_32);
    view.setUint32(position, RECORD_MAGIC, false);
    view.setUint32(position + 4, frameEnd - position - FRAME_OVERHEAD_BYTES, true);
    view.setUint32(position + 8, offsetLow, true);
    view.setUint32(position + 12, offsetHigh, true);
    view.setUint32(position + 16, timestamp - timestampHigh * TWO_POW_32, true);
    view.setInt32(position + 20, timestampHigh, true);
    let cursor = position + 24;
    const key = keys === null ? null : (keys[index] as Uint8Array | null);
    if (key === null) {
      view.setInt32(cursor, KEY_NULL, true);
      cursor += 4;
    } else {
      cursor = writeSized(target, view, cursor, key);
    }
    cursor = writeSized(target, view, cursor, values[index] as Uint8Array);
    const recordHeaders = headers === null ? null : (headers[index] as PreparedHeaders | null);
    if (recordHeaders === null) {
      view.setUint16(cursor, 0, true);
      cursor += 2;
    } else {
      cursor = writeHeaders(target, view, cursor, recordHeaders);
    }
    // The CRC slot (4 bytes) is filled in for the whole run below.
    if (cursor + 4 !== frameEnd) throw new Error('record encoding disagrees with its prepared size');
    position = frameEnd;
    if (++offsetLow === TWO_POW_32) {
      offsetLow = 0;
      offsetHigh++;
    }
  }
  if (position > at) sealFrameRun(target.subarray(at, position));
  return position;
}

/** A length u32 then the bytes (a key's length is read back as i32; below 2^31 the bits agree). */
function writeSized(target: Uint8Array, view: DataView, at: number, bytes: Uint8Array): number {
  view.setUint32(at, bytes.length, true);
  target.set(bytes, at + 4);
  return at + 4 + bytes.length;
}

function writeHeaders(target: Uint8Array, view: DataView, at: number, headers: PreparedHeaders): number {
  view.setUint16(at, headers.names.length, true);
  let cursor = at + 2;
  for (let header = 0; header < headers.names.length; header++) {
    const name = headers.names[header] as Uint8Array;
    view.setUint16(cursor, name.length, true);
    target.set(name, cursor + 2);
    cursor = writeSized(target, view, cursor + 2 + name.length, headers.values[header] as Uint8Array);
  }
  return cursor;
}
