import { KeelError, assertBytes, badArgument, describeType } from '@keel/core';
import { BATCH_OVERHEAD_BYTES, HEADER_COUNT_MAX, HEADER_NAME_BYTES_MAX, RECORD_BYTES_MAX } from './format.js';
import { VARINT_BYTES_MAX, varintBytes } from './varint.js';

/** What a caller appends. */
export interface AppendRecord {
  value: Uint8Array;
  /** Omitted or null: the record has no key (distinct from an empty key). */
  key?: Uint8Array | null;
  /** Milliseconds; defaults to Date.now() at append time. */
  timestamp?: number;
  headers?: readonly (readonly [string, Uint8Array])[];
}

/** What a read returns; every byte array is the caller's own copy. */
export interface LogRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array;
  headers: [string, Uint8Array][];
}

/** A record's headers with their names already encoded (UTF-8), ready to frame. */
export interface PreparedHeaders {
  names: Uint8Array[];
  values: Uint8Array[];
}

/**
 * A validated batch, held as columns rather than an object per record: each field of
 * each record is read once, here, so what is framed is exactly what was checked.
 * `bodyBytes` is what each record will take in its batch frame after its timestamp delta
 * (key, value and headers with their lengths): the delta's size depends on the frame the
 * record lands in, which only the encoder knows.
 */
export interface PreparedBatch {
  count: number;
  /** At least `count` long, like the typed columns below. */
  values: Uint8Array[];
  /** null when no record of the batch has a key: the common batch builds no column of nulls, and its encoder reads none. */
  keys: (Uint8Array | null)[] | null;
  /** At least `count` long (kept columns may be longer: only the first `count` are this batch's). */
  timestamps: Float64Array;
  bodyBytes: Float64Array;
  /** null for a record without headers (the common case costs no allocation), and null for the column when no record has any. */
  headers: (PreparedHeaders | null)[] | null;
  /**
   * The most bytes the batch can encode to (each record with the longest timestamp delta
   * and a frame of its own): what the writer reserves room by without visiting each record.
   */
  bytesBound: number;
  /** The fewest bytes the batch can encode to (every delta one byte, one frame): a segment with less room cannot take it whole. */
  bytesMin: number;
}

const encoder = new TextEncoder();

/** Batches of at most this many records are prepared into kept columns; a larger one gets its own (1 MiB kept at most). */
export const BATCH_COLUMNS_KEPT_RECORDS_MAX = 64 * 1024;

/**
 * The columns batches are prepared into, kept from one append to the next and grown as
 * needed: a batch then allocates no arrays of its own (its typed columns' off-heap memory
 * and an 8 KiB array of values per 1,000 records would otherwise go to the garbage
 * collector with every batch). The typed ones hold numbers only; `values` holds the
 * caller's buffers only while one append runs, and `release` lets go of them after it, so
 * that the log keeps no caller's memory alive. The log lends them to one append at a time.
 */
export class BatchColumns {
  timestamps = new Float64Array(0);
  bodyBytes = new Float64Array(0);
  values: Uint8Array[] = [];

  /** How many values the last `reserve` was for: what `release` clears. */
  #lent = 0;

  /** Columns of at least `count` records (at most `BATCH_COLUMNS_KEPT_RECORDS_MAX`); nothing in them is zeroed. */
  reserve(count: number): this {
    if (count > this.timestamps.length) {
      const length = Math.min(BATCH_COLUMNS_KEPT_RECORDS_MAX, Math.max(count, this.timestamps.length * 2));
      this.timestamps = new Float64Array(length);
      this.bodyBytes = new Float64Array(length);
    }
    this.#lent = count;
    return this;
  }

  /** After the append the columns were reserved for (done or failed): drops the references to the caller's buffers. */
  release(): void {
    this.values.fill(EMPTY_VALUE, 0, Math.min(this.#lent, this.values.length));
    this.#lent = 0;
  }
}

/** What a released slot of `values` holds: no caller's buffer, and still a Uint8Array, so the column keeps one element kind. */
const EMPTY_VALUE = new Uint8Array(0);

/**
 * Validates and normalises `records` (read once each) into a batch; throws on the first
 * bad one, before anything is written. `where(index)` names a record in messages, and is
 * called only on failure. With `columns`, a batch that fits them is prepared into them
 * (its typed columns may then be longer than `count`), else into columns of its own.
 */
export function prepareBatch(records: readonly unknown[], now: number, where: (index: number) => string, columns: BatchColumns | null = null): PreparedBatch {
  const count = records.length;
  const kept = columns !== null && count <= BATCH_COLUMNS_KEPT_RECORDS_MAX ? columns.reserve(count) : null;
  // Columns in locals, written in the loop, and the batch made once they are full: the
  // loop reads and writes no object but the record.
  const values = kept?.values ?? new Array<Uint8Array>(count);
  const timestamps = kept?.timestamps ?? new Float64Array(count);
  const bodyBytes = kept?.bodyBytes ?? new Float64Array(count);
  let keys: (Uint8Array | null)[] | null = null;
  let headerColumn: (PreparedHeaders | null)[] | null = null;
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const record = records[index];
    if (record === null || typeof record !== 'object') throw badArgument(`${where(index)} must be an object like { value }, got ${describeType(record)}`);
    const { value, key, timestamp, headers } = record as AppendRecord;
    if (!(value instanceof Uint8Array)) assertBytes(value, `${where(index)}.value`);
    const keyed = key !== undefined && key !== null;
    if (keyed && !(key instanceof Uint8Array)) assertBytes(key, `${where(index)}.key`);
    const resolvedTimestamp = timestamp ?? now;
    if (typeof resolvedTimestamp !== 'number' || !Number.isSafeInteger(resolvedTimestamp)) {
      throw badArgument(`${where(index)}.timestamp must be a safe integer of milliseconds, got ${describeType(timestamp)}`);
    }
    let body = varintBytes(value.length) + value.length;
    if (!keyed) body += 1;
    else {
      body += varintBytes(key.length + 1) + key.length;
      (keys ??= nullColumn(count))[index] = key;
    }
    if (headers === undefined) body += 1;
    else {
      const prepared = prepareHeaders(headers, where(index));
      body += preparedHeaderBytes(prepared);
      (headerColumn ??= nullColumn(count))[index] = prepared;
    }
    // Bounded with the longest delta, so a record's limit does not depend on the frame it lands in.
    if (body + VARINT_BYTES_MAX > RECORD_BYTES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `${where(index)} encodes to ${body + VARINT_BYTES_MAX} bytes; the maximum is ${RECORD_BYTES_MAX}`);
    }
    values[index] = value;
    timestamps[index] = resolvedTimestamp;
    bodyBytes[index] = body;
    bytes += body;
  }
  return { count, values, keys, timestamps, bodyBytes, headers: headerColumn, bytesBound: recordsBytesBound(bytes, count), bytesMin: bytes + count + BATCH_OVERHEAD_BYTES };
}

/** A column of `count` nulls, made when the first record that has something to put in it is prepared. */
function nullColumn<T>(count: number): (T | null)[] {
  return new Array<T | null>(count).fill(null);
}

function prepareHeaders(headers: unknown, where: string): PreparedHeaders {
  if (!Array.isArray(headers)) throw badArgument(`${where}.headers must be an array of [name, value] pairs, got ${describeType(headers)}`);
  if (headers.length > HEADER_COUNT_MAX) throw new KeelError('KEEL_TOO_LARGE', `${where} has ${headers.length} headers; the maximum is ${HEADER_COUNT_MAX}`);
  const prepared: PreparedHeaders = { names: [], values: [] };
  for (const [index, header] of headers.entries()) {
    if (!Array.isArray(header) || header.length !== 2 || typeof header[0] !== 'string') {
      throw badArgument(`${where}.headers[${index}] must be a [string, Uint8Array] pair, got ${describeType(header)}`);
    }
    assertBytes(header[1], `${where}.headers[${index}][1]`);
    const name = encoder.encode(header[0]);
    if (name.length > HEADER_NAME_BYTES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `${where}.headers[${index}] name is ${name.length} bytes; the maximum is ${HEADER_NAME_BYTES_MAX}`);
    }
    prepared.names.push(name);
    prepared.values.push(header[1]);
  }
  return prepared;
}

/** The most bytes `count` records of `bodyBytes` in all can encode to: each with the longest delta, in a frame of its own. */
export function recordsBytesBound(bodyBytes: number, count: number): number {
  return bodyBytes + count * (VARINT_BYTES_MAX + BATCH_OVERHEAD_BYTES);
}

/** Bytes the headers take in a record: the count, then per header the name's length, the name, the value's length, the value (lengths as varints). */
function preparedHeaderBytes(headers: PreparedHeaders): number {
  let bytes = varintBytes(headers.names.length);
  for (let index = 0; index < headers.names.length; index++) {
    const name = headers.names[index] as Uint8Array;
    const value = headers.values[index] as Uint8Array;
    bytes += varintBytes(name.length) + name.length + varintBytes(value.length) + value.length;
  }
  return bytes;
}
