import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, KeelError, sealFrameRun, writeFrameHeader } from '@keel/core';
import {
  HEADER_COUNT_MAX,
  HEADER_NAME_BYTES_MAX,
  KEY_NULL,
  RECORD_FIXED_BYTES,
  RECORD_FORMAT,
  getInt64,
  getUint64,
  setInt64,
  setUint64,
  viewOf,
} from './format.js';
import type { LogRecord, PreparedRecord } from './record.js';

/**
 * Record payload, little-endian:
 *   offset u64 · timestamp i64 · key length i32 (-1 = null) · key · value length u32 ·
 *   value · header count u16 · per header: name length u16 · name (UTF-8) · value length u32 · value
 */

/**
 * Frames `records[from, to)` into `target` from `at`, one frame per record, numbering
 * them from `firstOffset`. Writes the payload in place (no per-record buffer), then the CRCs
 * of the whole run with one native call, and returns the end.
 */
export function encodeRecordFrames(target: Uint8Array, at: number, records: readonly PreparedRecord[], from: number, to: number, firstOffset: number): number {
  const view = viewOf(target);
  let position = at;
  for (let index = from; index < to; index++) {
    const record = records[index] as PreparedRecord;
    const frameStart = position;
    writeFrameHeader(target, position, record.payloadBytes, RECORD_FORMAT);
    position += FRAME_HEADER_BYTES;
    setUint64(view, position, firstOffset + index - from);
    setInt64(view, position + 8, record.timestamp);
    position += 16;
    position = writeSized(target, view, position, record.key, true);
    position = writeSized(target, view, position, record.value, false);
    view.setUint16(position, record.headerNames.length, true);
    position += 2;
    for (let header = 0; header < record.headerNames.length; header++) {
      const name = record.headerNames[header] as Uint8Array;
      view.setUint16(position, name.length, true);
      target.set(name, position + 2);
      position = writeSized(target, view, position + 2 + name.length, record.headerValues[header] as Uint8Array, false);
    }
    if (position !== frameStart + FRAME_HEADER_BYTES + record.payloadBytes) throw new Error('record encoding disagrees with its prepared size');
    position += 4; // the CRC slot, filled in for the whole run below
  }
  if (position > at) sealFrameRun(target.subarray(at, position));
  return position;
}

function writeSized(target: Uint8Array, view: DataView, at: number, bytes: Uint8Array | null, signed: boolean): number {
  if (bytes === null) {
    view.setInt32(at, KEY_NULL, true);
    return at + 4;
  }
  if (signed) view.setInt32(at, bytes.length, true);
  else view.setUint32(at, bytes.length, true);
  target.set(bytes, at + 4);
  return at + 4 + bytes.length;
}

export function recordFrameBytes(record: PreparedRecord): number {
  return record.payloadBytes + FRAME_OVERHEAD_BYTES;
}

export interface RecordMeta {
  offset: number;
  timestamp: number;
}

/** Reads offset and timestamp from a checksum-valid payload; null when they are malformed. */
export function readRecordMeta(payload: Uint8Array): RecordMeta | null {
  if (payload.length < RECORD_FIXED_BYTES) return null;
  const view = viewOf(payload);
  const offset = getUint64(view, 0);
  const timestamp = getInt64(view, 8);
  if (offset === null || timestamp === null) return null;
  return { offset, timestamp };
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes the checksum-valid payload at [start, end) of `buffer` into a record whose byte
 * arrays are views of `buffer`: the caller passes a buffer it owns and never reuses, so
 * the record stays valid for as long as the caller keeps it. Every length is checked
 * against what remains (and its MAX) before it slices anything.
 */
export function decodeRecordAt(buffer: Uint8Array, view: DataView, start: number, end: number, where: { path: string; offset: number }): LogRecord {
  if (end - start < RECORD_FIXED_BYTES) throw malformed(where, 'fixed fields');
  const offset = getUint64(view, start);
  const timestamp = getInt64(view, start + 8);
  if (offset === null || timestamp === null) throw malformed(where, 'fixed fields');
  let position = start + 16;
  const keyLength = view.getInt32(position, true);
  position += 4;
  let key: Uint8Array | null = null;
  if (keyLength !== KEY_NULL) {
    if (keyLength < 0 || position + keyLength + 6 > end) throw malformed(where, 'key length');
    key = buffer.subarray(position, position + keyLength);
    position += keyLength;
  }
  const valueLength = view.getUint32(position, true);
  position += 4;
  if (position + valueLength + 2 > end) throw malformed(where, 'value length');
  const value = buffer.subarray(position, position + valueLength);
  position += valueLength;
  const headerCount = view.getUint16(position, true);
  position += 2;
  if (headerCount > HEADER_COUNT_MAX) throw malformed(where, 'header count');
  const headers: [string, Uint8Array][] = [];
  for (let index = 0; index < headerCount; index++) {
    if (position + 2 > end) throw malformed(where, 'header name length');
    const nameLength = view.getUint16(position, true);
    position += 2;
    if (nameLength > HEADER_NAME_BYTES_MAX || position + nameLength + 4 > end) throw malformed(where, 'header name length');
    const name = decoder.decode(buffer.subarray(position, position + nameLength));
    position += nameLength;
    const headerValueLength = view.getUint32(position, true);
    position += 4;
    if (position + headerValueLength > end) throw malformed(where, 'header value length');
    headers.push([name, buffer.subarray(position, position + headerValueLength)]);
    position += headerValueLength;
  }
  if (position !== end) throw malformed(where, 'trailing bytes');
  return { offset, timestamp, key, value, headers };
}

function malformed(where: { path: string; offset: number }, field: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `record frame in ${where.path} at byte ${where.offset} has a valid checksum but a malformed ${field}`, where);
}
