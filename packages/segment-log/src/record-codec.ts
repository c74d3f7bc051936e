import { KeelError } from '@keel/core';
import {
  HEADER_COUNT_MAX,
  HEADER_NAME_BYTES_MAX,
  KEY_NULL,
  RECORD_FIXED_BYTES,
  getInt64,
  getUint64,
  viewOf,
} from './format.js';
import type { LogRecord } from './record.js';

/** Record payload layout: see record-encoder.ts (and README.md "Format"). */

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
