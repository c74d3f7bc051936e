import { KeelError } from '@keel/core';
import { BATCH_HEADER_BYTES, HEADER_COUNT_MAX, HEADER_NAME_BYTES_MAX, RECORD_BYTES_MIN, getInt64, getUint64 } from './format.js';
import { readVarint, unzigzag, type VarintRead } from './varint.js';

/** Batch frame payload layout: see batch-encoder.ts (and README.md "Format"). */

/** A batch frame's header, read from a checksum-valid payload. */
export interface BatchHeader {
  baseOffset: number;
  count: number;
  baseTimestamp: number;
}

export function emptyBatchHeader(): BatchHeader {
  return { baseOffset: 0, count: 0, baseTimestamp: 0 };
}

/**
 * Reads the header of the checksum-valid batch payload at [start, end) of `view` into
 * `out`; false when it is malformed: fields that are not safe integers, or a record count
 * of none or more than the payload could hold.
 */
export function readBatchHeader(view: DataView, start: number, end: number, out: BatchHeader): boolean {
  if (end - start < BATCH_HEADER_BYTES) return false;
  const baseOffset = getUint64(view, start);
  const count = view.getUint32(start + 8, true);
  const baseTimestamp = getInt64(view, start + 12);
  if (baseOffset === null || baseTimestamp === null || count === 0 || count > (end - start - BATCH_HEADER_BYTES) / RECORD_BYTES_MIN) return false;
  out.baseOffset = baseOffset;
  out.count = count;
  out.baseTimestamp = baseTimestamp;
  return true;
}

/** Where the parts of one record of a checksum-valid batch lie in its buffer: filled in place, so measuring allocates nothing. */
export interface RecordLayout {
  timestamp: number;
  /** -1 for a record without a key. */
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  /** Position of the header count; the headers run from there to the record's end. */
  headersAt: number;
  headerCount: number;
  /** The field that was malformed when measuring returned -1. */
  malformed: string;
}

export function emptyLayout(): RecordLayout {
  return { timestamp: 0, keyStart: -1, keyLength: 0, valueStart: 0, valueLength: 0, headersAt: 0, headerCount: 0, malformed: '' };
}

const varint: VarintRead = { value: 0, next: 0 };

/**
 * Measures the record at `at` of a checksum-valid batch payload ending at `end` and fills
 * `layout` with where its fields lie; returns where the record ends, or -1 (and names the
 * field in `layout.malformed`) when it is malformed. Every length is checked against what
 * remains of the payload (and its MAX) before anything is sliced. Both the record objects
 * of `read` and the views of a batch are cut from this.
 */
export function measureRecordAt(bytes: Uint8Array, at: number, end: number, baseTimestamp: number, layout: RecordLayout): number {
  let position = at;
  readVarint(bytes, position, end, varint);
  const timestamp = varint.value < 0 ? NaN : baseTimestamp + unzigzag(varint.value);
  if (!Number.isSafeInteger(timestamp)) return fail(layout, 'timestamp delta');
  position = readVarint(bytes, varint.next, end, varint).next;
  const keyField = varint.value;
  if (keyField < 0 || position + keyField - 1 > end) return fail(layout, 'key length');
  layout.keyStart = -1;
  layout.keyLength = 0;
  if (keyField > 0) {
    layout.keyStart = position;
    layout.keyLength = keyField - 1;
    position += keyField - 1;
  }
  position = readVarint(bytes, position, end, varint).next;
  const valueLength = varint.value;
  if (valueLength < 0 || position + valueLength > end) return fail(layout, 'value length');
  layout.valueStart = position;
  layout.valueLength = valueLength;
  position += valueLength;
  layout.headersAt = position;
  position = readVarint(bytes, position, end, varint).next;
  const headerCount = varint.value;
  if (headerCount < 0 || headerCount > HEADER_COUNT_MAX) return fail(layout, 'header count');
  if (headerCount > 0) position = measureHeaders(bytes, position, end, headerCount, layout);
  layout.timestamp = timestamp;
  layout.headerCount = headerCount;
  return position;
}

function fail(layout: RecordLayout, field: string): number {
  layout.malformed = field;
  return -1;
}

/**
 * Checks `headerCount` headers from `position` against `end` and returns where they end
 * (-1 when malformed). Apart from measureRecordAt so that it stays small enough for the
 * optimizer to inline it into the read loop (records without headers never come here).
 */
function measureHeaders(bytes: Uint8Array, position: number, end: number, headerCount: number, layout: RecordLayout): number {
  for (let index = 0; index < headerCount; index++) {
    position = readVarint(bytes, position, end, varint).next;
    const nameLength = varint.value;
    if (nameLength < 0 || nameLength > HEADER_NAME_BYTES_MAX || position + nameLength > end) return fail(layout, 'header name length');
    position = readVarint(bytes, position + nameLength, end, varint).next;
    const valueLength = varint.value;
    if (valueLength < 0 || position + valueLength > end) return fail(layout, 'header value length');
    position += valueLength;
  }
  return position;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The headers of a measured record from its header count at `headersAt`, as views of `buffer` (their lengths were checked by measureRecordAt). */
export function decodeHeaders(buffer: Uint8Array, headersAt: number): [string, Uint8Array][] {
  let position = readVarint(buffer, headersAt, buffer.length, varint).next;
  const count = varint.value;
  const headers: [string, Uint8Array][] = [];
  for (let index = 0; index < count; index++) {
    position = readVarint(buffer, position, buffer.length, varint).next;
    const name = decoder.decode(buffer.subarray(position, position + varint.value));
    position = readVarint(buffer, position + varint.value, buffer.length, varint).next;
    headers.push([name, buffer.subarray(position, position + varint.value)]);
    position += varint.value;
  }
  return headers;
}

/** Where the key of the measured record at `recordStart` lies: [start, start + length), or start -1 for none. */
export function keyRangeOf(buffer: Uint8Array, recordStart: number, out: VarintRead): VarintRead {
  // Past the timestamp delta, the key field: its length + 1, or 0 for no key.
  readVarint(buffer, readVarint(buffer, recordStart, buffer.length, out).next, buffer.length, out);
  out.value -= 1;
  return out;
}

export function malformed(path: string, frameOffset: number, field: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `batch frame in ${path} at byte ${frameOffset} has a valid checksum but a malformed ${field}`, { path, offset: frameOffset });
}
