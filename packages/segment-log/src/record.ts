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
  /** What they take in the record: the count, then per header its name and value with their lengths. */
  bytes: number;
}

/**
 * A validated batch, held as columns rather than an object per record: each field of
 * each record is read once, here, so what is framed is exactly what was checked. A
 * column no record needs is null rather than full of defaults (the common batch, values
 * alone, fills one column): less to write here and less to read back in the encoder,
 * whose cache lines would otherwise be cold by the time it reads them.
 */
export interface PreparedBatch {
  count: number;
  /** At least `count` long (a kept column may be longer: only the first `count` are this batch's). */
  values: Uint8Array[];
  /** null when no record of the batch has a key: the common batch builds no column of nulls, and its encoder reads none. */
  keys: (Uint8Array | null)[] | null;
  /** null when no record gave its own timestamp: every record's is then `now` (see `timestampAt`). */
  timestamps: Float64Array | null;
  /** The timestamp of a record that gave none: the clock's reading when the append began. */
  now: number;
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

/** Record `index`'s timestamp. */
export function timestampAt(batch: PreparedBatch, index: number): number {
  return batch.timestamps === null ? batch.now : (batch.timestamps[index] as number);
}

/**
 * What record `index` takes in its batch frame after its timestamp delta (key, value and
 * headers with their lengths): the delta's size depends on the frame the record lands
 * in, which only the encoder knows. Computed from the prepared fields whenever it is
 * needed rather than kept in a column: it costs a few comparisons, a column a store and
 * a load per record.
 */
export function recordBodyBytes(value: Uint8Array, key: Uint8Array | null, headers: PreparedHeaders | null): number {
  const length = value.length;
  return (length < 0x80 ? 1 : varintBytes(length)) + length + (key === null ? 1 : varintBytes(key.length + 1) + key.length) + (headers === null ? 1 : headers.bytes);
}

/** `recordBodyBytes` of record `index` of a prepared batch. */
export function batchRecordBodyBytes(batch: PreparedBatch, index: number): number {
  return recordBodyBytes(batch.values[index] as Uint8Array, batch.keys === null ? null : (batch.keys[index] as Uint8Array | null), batch.headers === null ? null : (batch.headers[index] as PreparedHeaders | null));
}

const encoder = new TextEncoder();

/** Batches of at most this many records are prepared into kept columns; a larger one gets its own (1 MiB kept at most). */
export const BATCH_COLUMNS_KEPT_RECORDS_MAX = 64 * 1024;

/**
 * The columns batches are prepared into, kept from one append to the next and grown as
 * needed: a batch then allocates no arrays of its own (a typed column's off-heap memory
 * and an 8 KiB array of values per 1,000 records would otherwise go to the garbage
 * collector with every batch). `timestamps` holds numbers only, and is grown only for a
 * batch that gives timestamps; `values` holds the caller's buffers only while one append
 * runs, and `release` lets go of them after it, so that the log keeps no caller's memory
 * alive. The log lends them to one append at a time.
 */
export class BatchColumns {
  timestamps = new Float64Array(0);
  values: Uint8Array[] = [];

  /** How many values the last `reserve` was for: what `release` clears. */
  #lent = 0;

  /**
   * Lends the columns to the preparing of `count` records (at most
   * `BATCH_COLUMNS_KEPT_RECORDS_MAX`): `values` grows as it is written, and the timestamps
   * only through `timestampColumn`, for a batch that gives any. Nothing in them is zeroed.
   */
  reserve(count: number): this {
    this.#lent = count;
    return this;
  }

  /** A timestamp column of at least `count` records (reserved first); nothing in it is zeroed. */
  timestampColumn(count: number): Float64Array {
    if (count > this.timestamps.length) this.timestamps = new Float64Array(Math.min(BATCH_COLUMNS_KEPT_RECORDS_MAX, Math.max(count, this.timestamps.length * 2)));
    return this.timestamps;
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
 * (its columns may then be longer than `count`), else into columns of its own.
 */
export function prepareBatch(records: readonly unknown[], now: number, where: (index: number) => string, columns: BatchColumns | null = null): PreparedBatch {
  const count = records.length;
  const kept = columns !== null && count <= BATCH_COLUMNS_KEPT_RECORDS_MAX ? columns.reserve(count) : null;
  // Columns in locals, written in the loop, and the batch made once they are full: the
  // loop reads and writes no object but the record.
  const values = kept?.values ?? new Array<Uint8Array>(count);
  let keys: (Uint8Array | null)[] | null = null;
  let timestamps: Float64Array | null = null;
  let headerColumn: (PreparedHeaders | null)[] | null = null;
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const record = records[index];
    if (record === null || typeof record !== 'object') throw badArgument(`${where(index)} must be an object like { value }, got ${describeType(record)}`);
    const { value, key, timestamp, headers } = record as AppendRecord;
    if (!(value instanceof Uint8Array)) assertBytes(value, `${where(index)}.value`);
    const keyed = key !== undefined && key !== null;
    if (keyed && !(key instanceof Uint8Array)) assertBytes(key, `${where(index)}.key`);
    // null, like omitted, takes `now`.
    if (timestamp !== undefined && timestamp !== null) {
      if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
        throw badArgument(`${where(index)}.timestamp must be a safe integer of milliseconds, got ${describeType(timestamp)}`);
      }
      (timestamps ??= timestampColumn(kept, count, index, now))[index] = timestamp;
    } else if (timestamps !== null) timestamps[index] = now;
    const prepared = headers === undefined ? null : prepareHeaders(headers, where(index));
    const body = recordBodyBytes(value, keyed ? key : null, prepared);
    // Bounded with the longest delta, so a record's limit does not depend on the frame it lands in.
    if (body + VARINT_BYTES_MAX > RECORD_BYTES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `${where(index)} encodes to ${body + VARINT_BYTES_MAX} bytes; the maximum is ${RECORD_BYTES_MAX}`);
    }
    if (keyed) (keys ??= nullColumn(count))[index] = key;
    if (prepared !== null) (headerColumn ??= nullColumn(count))[index] = prepared;
    values[index] = value;
    bytes += body;
  }
  return { count, values, keys, timestamps, now, headers: headerColumn, bytesBound: recordsBytesBound(bytes, count), bytesMin: bytes + count + BATCH_OVERHEAD_BYTES };
}

/** The timestamp column, made when record `first` is the first to give a timestamp: the records before it take `now`. */
function timestampColumn(kept: BatchColumns | null, count: number, first: number, now: number): Float64Array {
  const column = kept?.timestampColumn(count) ?? new Float64Array(count);
  column.fill(now, 0, first);
  return column;
}

/** A column of `count` nulls, made when the first record that has something to put in it is prepared. */
function nullColumn<T>(count: number): (T | null)[] {
  return new Array<T | null>(count).fill(null);
}

function prepareHeaders(headers: unknown, where: string): PreparedHeaders {
  if (!Array.isArray(headers)) throw badArgument(`${where}.headers must be an array of [name, value] pairs, got ${describeType(headers)}`);
  if (headers.length > HEADER_COUNT_MAX) throw new KeelError('KEEL_TOO_LARGE', `${where} has ${headers.length} headers; the maximum is ${HEADER_COUNT_MAX}`);
  const prepared: PreparedHeaders = { names: [], values: [], bytes: varintBytes(headers.length) };
  for (const [index, header] of headers.entries()) {
    if (!Array.isArray(header) || header.length !== 2 || typeof header[0] !== 'string') {
      throw badArgument(`${where}.headers[${index}] must be a [string, Uint8Array] pair, got ${describeType(header)}`);
    }
    const [text, value] = header as [string, unknown];
    assertBytes(value, `${where}.headers[${index}][1]`);
    const name = encoder.encode(text);
    if (name.length > HEADER_NAME_BYTES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `${where}.headers[${index}] name is ${name.length} bytes; the maximum is ${HEADER_NAME_BYTES_MAX}`);
    }
    prepared.names.push(name);
    prepared.values.push(value);
    prepared.bytes += varintBytes(name.length) + name.length + varintBytes(value.length) + value.length;
  }
  return prepared;
}

/** The most bytes `count` records of `bodyBytes` in all can encode to: each with the longest delta, in a frame of its own. */
export function recordsBytesBound(bodyBytes: number, count: number): number {
  return bodyBytes + count * (VARINT_BYTES_MAX + BATCH_OVERHEAD_BYTES);
}
