import { KeelError, assertArray, badArgument, describeType } from '@keel/core';
import { encodeValue, keyBytesOf, type Key, type ValueEncoding } from './encoding.js';
import { OPERATION_DELETE, OPERATION_PUT, recordPayloadBytes, type Operation } from './format.js';
import { BATCH_OPERATIONS_MAX, RECORD_PAYLOAD_BYTES_MAX } from './limits.js';

export type BatchOperation<V = unknown> = { type: 'put'; key: Key; value: V } | { type: 'del'; key: Key };

/** Operations validated and in bytes, ready for one record. */
export interface PreparedRecord {
  operations: Operation[];
  payloadBytes: number;
}

export function preparePut(key: unknown, value: unknown, encoding: ValueEncoding, into: PreparedRecord): void {
  const keyBytes = keyBytesOf(key);
  const bytes = encodeValue(value, encoding);
  into.operations.push({ type: OPERATION_PUT, key: keyBytes, value: bytes });
}

export function prepareDelete(key: unknown, into: PreparedRecord): void {
  into.operations.push({ type: OPERATION_DELETE, key: keyBytesOf(key), value: null });
}

export function emptyRecord(): PreparedRecord {
  return { operations: [], payloadBytes: 0 };
}

/** Validates every operation of a batch before any of it is written. */
export function prepareBatch(operations: unknown, encoding: ValueEncoding): PreparedRecord {
  assertArray(operations, 'batch');
  checkCount(operations.length);
  const record = emptyRecord();
  for (const operation of operations) {
    if (operation === null || typeof operation !== 'object') throw badArgument(`batch operation must be an object, got ${describeType(operation)}`);
    const { type, key, value } = operation as { type?: unknown; key?: unknown; value?: unknown };
    if (type === 'put') preparePut(key, value, encoding, record);
    else if (type === 'del') prepareDelete(key, record);
    else throw badArgument(`batch operation type must be 'put' or 'del', got ${describeType(type)}`);
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

export function finish(record: PreparedRecord): PreparedRecord {
  record.payloadBytes = recordPayloadBytes(record.operations);
  if (record.payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
    throw new KeelError('KEEL_TOO_LARGE', `batch is ${record.payloadBytes} bytes; one record holds at most ${RECORD_PAYLOAD_BYTES_MAX}`);
  }
  return record;
}

function checkCount(count: number): void {
  if (count > BATCH_OPERATIONS_MAX) throw new KeelError('KEEL_TOO_LARGE', `batch has ${count} operations; the maximum is ${BATCH_OPERATIONS_MAX}`);
}
