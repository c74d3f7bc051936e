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

/** Where the parts of one checksum-valid record payload lie in its buffer: filled in place, so measuring allocates nothing. */
export interface RecordLayout {
  offset: number;
  timestamp: number;
  /** -1 for a record without a key. */
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  /** Position of the header count; the headers run from there to the payload's end. */
  headersAt: number;
  headerCount: number;
}

export function emptyLayout(): RecordLayout {
  return { offset: 0, timestamp: 0, keyStart: -1, keyLength: 0, valueStart: 0, valueLength: 0, headersAt: 0, headerCount: 0 };
}

/**
 * Checks the checksum-valid payload at [start, end) of the buffer `view` covers and fills
 * `layout` with where its fields lie. Every length is checked against what remains (and
 * its MAX) before anything is sliced; a record that does not fit is KEEL_CORRUPT naming
 * the frame's path and offset. Both the record objects of `read` and the views of a batch are cut from this.
 */
export function measureRecordAt(view: DataView, start: number, end: number, path: string, frameOffset: number, layout: RecordLayout): void {
  if (end - start < RECORD_FIXED_BYTES) throw malformed(path, frameOffset, 'fixed fields');
  const offset = getUint64(view, start);
  const timestamp = getInt64(view, start + 8);
  if (offset === null || timestamp === null) throw malformed(path, frameOffset, 'fixed fields');
  let position = start + 16;
  const keyLength = view.getInt32(position, true);
  position += 4;
  layout.keyStart = -1;
  layout.keyLength = 0;
  if (keyLength !== KEY_NULL) {
    if (keyLength < 0 || position + keyLength + 6 > end) throw malformed(path, frameOffset, 'key length');
    layout.keyStart = position;
    layout.keyLength = keyLength;
    position += keyLength;
  }
  const valueLength = view.getUint32(position, true);
  position += 4;
  if (position + valueLength + 2 > end) throw malformed(path, frameOffset, 'value length');
  layout.valueStart = position;
  layout.valueLength = valueLength;
  position += valueLength;
  layout.headersAt = position;
  const headerCount = view.getUint16(position, true);
  position += 2;
  if (headerCount > HEADER_COUNT_MAX) throw malformed(path, frameOffset, 'header count');
  if (headerCount > 0) position = measureHeaders(view, position, end, headerCount, path, frameOffset);
  if (position !== end) throw malformed(path, frameOffset, 'trailing bytes');
  layout.offset = offset;
  layout.timestamp = timestamp;
  layout.headerCount = headerCount;
}

/**
 * Checks `headerCount` headers from `position` against `end` and returns where they end.
 * Apart from measureRecordAt so that it stays small enough for the optimizer to inline
 * it into the read loop (records without headers never come here).
 */
function measureHeaders(view: DataView, position: number, end: number, headerCount: number, path: string, frameOffset: number): number {
  for (let index = 0; index < headerCount; index++) {
    if (position + 2 > end) throw malformed(path, frameOffset, 'header name length');
    const nameLength = view.getUint16(position, true);
    position += 2;
    if (nameLength > HEADER_NAME_BYTES_MAX || position + nameLength + 4 > end) throw malformed(path, frameOffset, 'header name length');
    position += nameLength;
    const headerValueLength = view.getUint32(position, true);
    position += 4;
    if (position + headerValueLength > end) throw malformed(path, frameOffset, 'header value length');
    position += headerValueLength;
  }
  return position;
}

/** The headers of a measured record, as views of `buffer` (their lengths were checked by measureRecordAt). */
export function decodeHeaders(buffer: Uint8Array, view: DataView, headersAt: number): [string, Uint8Array][] {
  const count = view.getUint16(headersAt, true);
  const headers: [string, Uint8Array][] = [];
  let position = headersAt + 2;
  for (let index = 0; index < count; index++) {
    const nameLength = view.getUint16(position, true);
    const name = decoder.decode(buffer.subarray(position + 2, position + 2 + nameLength));
    position += 2 + nameLength;
    const valueLength = view.getUint32(position, true);
    headers.push([name, buffer.subarray(position + 4, position + 4 + valueLength)]);
    position += 4 + valueLength;
  }
  return headers;
}

const scratch = emptyLayout();

/**
 * Decodes the checksum-valid payload at [start, end) of `buffer` into a record whose byte
 * arrays are views of `buffer`: the caller passes a buffer it owns and never reuses, so
 * the record stays valid for as long as the caller keeps it.
 */
export function decodeRecordAt(buffer: Uint8Array, view: DataView, start: number, end: number, path: string, frameOffset: number): LogRecord {
  measureRecordAt(view, start, end, path, frameOffset, scratch);
  return {
    offset: scratch.offset,
    timestamp: scratch.timestamp,
    key: scratch.keyStart < 0 ? null : buffer.subarray(scratch.keyStart, scratch.keyStart + scratch.keyLength),
    value: buffer.subarray(scratch.valueStart, scratch.valueStart + scratch.valueLength),
    headers: scratch.headerCount === 0 ? [] : decodeHeaders(buffer, view, scratch.headersAt),
  };
}

function malformed(path: string, offset: number, field: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `record frame in ${path} at byte ${offset} has a valid checksum but a malformed ${field}`, { path, offset });
}
