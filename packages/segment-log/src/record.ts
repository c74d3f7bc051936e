import { KeelError, assertBytes, badArgument, describeType } from '@keel/core';
import { HEADER_COUNT_MAX, HEADER_NAME_BYTES_MAX, RECORD_FIXED_BYTES, RECORD_PAYLOAD_BYTES_MAX } from './format.js';

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

/** A validated record with its header names already encoded, ready to frame. */
export interface PreparedRecord {
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array;
  headerNames: Uint8Array[];
  headerValues: Uint8Array[];
  payloadBytes: number;
}

const encoder = new TextEncoder();

/** Validates and normalises one record; nothing is written before every record passes. */
export function prepareRecord(record: unknown, now: number, where: string): PreparedRecord {
  if (record === null || typeof record !== 'object') throw badArgument(`${where} must be an object like { value }, got ${describeType(record)}`);
  const { value, key, timestamp, headers } = record as AppendRecord;
  assertBytes(value, `${where}.value`);
  if (key !== undefined && key !== null) assertBytes(key, `${where}.key`);
  const resolvedTimestamp = timestamp ?? now;
  if (typeof resolvedTimestamp !== 'number' || !Number.isSafeInteger(resolvedTimestamp)) {
    throw badArgument(`${where}.timestamp must be a safe integer of milliseconds, got ${describeType(timestamp)}`);
  }
  const prepared: PreparedRecord = {
    timestamp: resolvedTimestamp,
    key: key ?? null,
    value,
    headerNames: [],
    headerValues: [],
    payloadBytes: RECORD_FIXED_BYTES + (key?.length ?? 0) + value.length,
  };
  if (headers !== undefined) prepareHeaders(prepared, headers, where);
  if (prepared.payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
    throw new KeelError('KEEL_TOO_LARGE', `${where} encodes to ${prepared.payloadBytes} bytes; the maximum is ${RECORD_PAYLOAD_BYTES_MAX}`);
  }
  return prepared;
}

function prepareHeaders(prepared: PreparedRecord, headers: unknown, where: string): void {
  if (!Array.isArray(headers)) throw badArgument(`${where}.headers must be an array of [name, value] pairs, got ${describeType(headers)}`);
  if (headers.length > HEADER_COUNT_MAX) throw new KeelError('KEEL_TOO_LARGE', `${where} has ${headers.length} headers; the maximum is ${HEADER_COUNT_MAX}`);
  for (const [index, header] of headers.entries()) {
    if (!Array.isArray(header) || header.length !== 2 || typeof header[0] !== 'string') {
      throw badArgument(`${where}.headers[${index}] must be a [string, Uint8Array] pair, got ${describeType(header)}`);
    }
    assertBytes(header[1], `${where}.headers[${index}][1]`);
    const name = encoder.encode(header[0]);
    if (name.length > HEADER_NAME_BYTES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `${where}.headers[${index}] name is ${name.length} bytes; the maximum is ${HEADER_NAME_BYTES_MAX}`);
    }
    prepared.headerNames.push(name);
    prepared.headerValues.push(header[1]);
    // name length u16 + name + value length u32 + value
    prepared.payloadBytes += 6 + name.length + header[1].length;
  }
}
