import { KeelError, assertArray, badArgument, describeType } from '@keel/core';
import { encodeValue, keyBytesOf, type Key, type KeyBytes, type ValueEncoding } from './encoding.js';
import { RECORD_HEADER_BYTES, operationBytes } from './format.js';
import { BATCH_OPERATIONS_MAX, RECORD_PAYLOAD_BYTES_MAX } from './limits.js';

export type BatchOperation<V = unknown> = { type: 'put'; key: Key; value: V; ifSeq?: never; ifAbsent?: never } | { type: 'del'; key: Key; ifSeq?: never };

/**
 * A batch operation with an optional condition on the key's state before the batch:
 * `ifSeq` (the key is present and its value was written with that seq, as returned by
 * the write) or, for a put, `ifAbsent` (the key is absent).
 */
export type ConditionalBatchOperation<V = unknown> =
  | { type: 'put'; key: Key; value: V; ifSeq?: number; ifAbsent?: boolean }
  | { type: 'del'; key: Key; ifSeq?: number };

/** What must hold of a key before a record is written: its value's seq, or (null) that it is absent. */
export interface Condition {
  key: KeyBytes;
  seq: number | null;
}

/**
 * Operations validated and in bytes, ready for one record: operation i puts `values[i]`
 * under `keys[i]`, or deletes it when `values[i]` is null. Two flat arrays rather than
 * an object per operation: a batch of a thousand puts then allocates two arrays.
 */
export interface PreparedRecord {
  keys: KeyBytes[];
  values: Array<Uint8Array | null>;
  /** The record's payload size (header and every operation so far). */
  payloadBytes: number;
  conditions: Condition[];
}

export function preparePut(key: unknown, value: unknown, encoding: ValueEncoding, into: PreparedRecord): void {
  const keyBytes = keyBytesOf(key);
  const bytes = encodeValue(value, encoding);
  into.keys.push(keyBytes);
  into.values.push(bytes);
  into.payloadBytes += operationBytes(keyBytes.length, bytes.length);
}

export function prepareDelete(key: unknown, into: PreparedRecord): void {
  const keyBytes = keyBytesOf(key);
  into.keys.push(keyBytes);
  into.values.push(null);
  into.payloadBytes += operationBytes(keyBytes.length, null);
}

export function emptyRecord(): PreparedRecord {
  return { keys: [], values: [], payloadBytes: RECORD_HEADER_BYTES, conditions: [] };
}

/** Adds the condition of a batch operation, if it has one, after validating it. */
export function prepareCondition(key: KeyBytes, type: 'put' | 'del', ifSeq: unknown, ifAbsent: unknown, into: PreparedRecord): void {
  if (ifAbsent !== undefined && typeof ifAbsent !== 'boolean') throw badArgument(`ifAbsent must be a boolean, got ${describeType(ifAbsent)}`);
  if (ifAbsent === true && type !== 'put') throw badArgument('ifAbsent applies to a put only');
  if (ifSeq !== undefined && ifAbsent === true) throw badArgument('give ifSeq or ifAbsent, not both');
  if (ifSeq !== undefined && !(Number.isSafeInteger(ifSeq) && (ifSeq as number) >= 1)) throw badArgument(`ifSeq must be a seq (a positive integer), got ${describeType(ifSeq)}`);
  if (ifSeq !== undefined) into.conditions.push({ key, seq: ifSeq as number });
  else if (ifAbsent === true) into.conditions.push({ key, seq: null });
}

/** Validates every operation of a batch before any of it is written. */
export function prepareBatch(operations: unknown, encoding: ValueEncoding): PreparedRecord {
  assertArray(operations, 'batch');
  checkCount(operations.length);
  const record = emptyRecord();
  for (const operation of operations) {
    if (operation === null || typeof operation !== 'object') throw badArgument(`batch operation must be an object, got ${describeType(operation)}`);
    const { type, key, value, ifSeq, ifAbsent } = operation as { type?: unknown; key?: unknown; value?: unknown; ifSeq?: unknown; ifAbsent?: unknown };
    if (type === 'put') preparePut(key, value, encoding, record);
    else if (type === 'del') prepareDelete(key, record);
    else throw badArgument(`batch operation type must be 'put' or 'del', got ${describeType(type)}`);
    prepareCondition(record.keys[record.keys.length - 1]!, type, ifSeq, ifAbsent, record);
  }
  return finish(record);
}

export function preparePutBatch(entries: unknown, encoding: ValueEncoding): PreparedRecord {
  assertArray(entries, 'entries');
  checkCount(entries.length);
  const record = emptyRecord();
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) throw badArgument(`putBatch entries must be [key, value] pairs, got ${describeType(entry)}`);
    preparePut(entry[0], entry[1], encoding, record);
  }
  return finish(record);
}

/** `preparePutBatch` of keys and values given as two arrays of one length (no pair per put). */
export function preparePutColumns(keys: unknown, values: unknown, encoding: ValueEncoding): PreparedRecord {
  assertArray(keys, 'keys');
  assertArray(values, 'values');
  if (keys.length !== values.length) throw badArgument(`putBatch keys and values must be of one length, got ${keys.length} keys and ${values.length} values`);
  checkCount(keys.length);
  const record = emptyRecord();
  for (let i = 0; i < keys.length; i++) preparePut(keys[i], values[i], encoding, record);
  return finish(record);
}

/** Deletes of every key of `keys`, for one record. */
export function prepareDeleteBatch(keys: unknown): PreparedRecord {
  assertArray(keys, 'keys');
  checkCount(keys.length);
  const record = emptyRecord();
  for (const key of keys) prepareDelete(key, record);
  return finish(record);
}

export function finish(record: PreparedRecord): PreparedRecord {
  if (record.payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
    throw new KeelError('KEEL_TOO_LARGE', `batch is ${record.payloadBytes} bytes; one record holds at most ${RECORD_PAYLOAD_BYTES_MAX}`);
  }
  return record;
}

function checkCount(count: number): void {
  if (count > BATCH_OPERATIONS_MAX) throw new KeelError('KEEL_TOO_LARGE', `batch has ${count} operations; the maximum is ${BATCH_OPERATIONS_MAX}`);
}
