import { Buffer } from 'node:buffer';
import { KeelError, badArgument, describeType } from '@keel/core';
import { KEY_BYTES_MAX, VALUE_BYTES_MAX } from './limits.js';

/**
 * Keys are bytes on disk: a string key is its UTF-8 encoding. In memory the index keys
 * them by a latin1 string of those bytes (one char per byte), which is compact, hashes
 * fast, and sorts in byte order. An ASCII string is its own latin1 form, which keeps the
 * common case free of any conversion.
 */
export type Key = string | Uint8Array;
export type KeyEncoding = 'utf8' | 'binary';
export type ValueEncoding = 'binary' | 'utf8' | 'json';

const NON_ASCII = /[^\x00-\x7f]/;

/** The index form of a key, validated (non-empty, at most KEY_BYTES_MAX bytes). */
export function indexKeyOf(key: unknown, name = 'key'): string {
  let indexKey: string;
  if (typeof key === 'string') {
    indexKey = NON_ASCII.test(key) ? Buffer.from(key, 'utf8').toString('latin1') : key;
  } else if (key instanceof Uint8Array) {
    indexKey = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  } else {
    throw badArgument(`${name} must be a string or a Uint8Array, got ${describeType(key)}`);
  }
  if (indexKey.length === 0) throw badArgument(`${name} must not be empty`);
  if (indexKey.length > KEY_BYTES_MAX) throw new KeelError('KEEL_TOO_LARGE', `${name} is ${indexKey.length} bytes; the maximum is ${KEY_BYTES_MAX}`);
  return indexKey;
}

/** A prefix in index form; the empty prefix matches everything. */
export function indexPrefixOf(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (prefix instanceof Uint8Array && prefix.length === 0) return '';
  return indexKeyOf(prefix, 'prefix');
}

export function indexKeyBytes(indexKey: string): Buffer {
  return Buffer.from(indexKey, 'latin1');
}

export function decodeKey(indexKey: string, encoding: KeyEncoding): string | Buffer {
  if (encoding === 'binary') return indexKeyBytes(indexKey);
  return NON_ASCII.test(indexKey) ? indexKeyBytes(indexKey).toString('utf8') : indexKey;
}

export function normalizeKeyEncoding(encoding: unknown): KeyEncoding {
  if (encoding === undefined) return 'utf8';
  if (encoding === 'utf8' || encoding === 'binary') return encoding;
  throw badArgument(`keyEncoding must be 'utf8' or 'binary', got ${describeType(encoding)}`);
}

export function normalizeValueEncoding(encoding: unknown): ValueEncoding {
  if (encoding === undefined) return 'binary';
  if (encoding === 'binary' || encoding === 'utf8' || encoding === 'json') return encoding;
  throw badArgument(`valueEncoding must be 'binary', 'utf8' or 'json', got ${describeType(encoding)}`);
}

/** Turns a caller's value into bytes under `encoding`, validating type and size. */
export function encodeValue(value: unknown, encoding: ValueEncoding): Uint8Array {
  let bytes: Uint8Array;
  if (encoding === 'binary') {
    if (!(value instanceof Uint8Array)) throw badArgument(`value must be a Uint8Array with valueEncoding 'binary', got ${describeType(value)}`);
    bytes = value;
  } else if (encoding === 'utf8') {
    if (typeof value !== 'string') throw badArgument(`value must be a string with valueEncoding 'utf8', got ${describeType(value)}`);
    bytes = Buffer.from(value, 'utf8');
  } else {
    bytes = Buffer.from(stringifyJson(value), 'utf8');
  }
  if (bytes.length > VALUE_BYTES_MAX) throw new KeelError('KEEL_TOO_LARGE', `value is ${bytes.length} bytes; the maximum is ${VALUE_BYTES_MAX}`);
  return bytes;
}

function stringifyJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new KeelError('KEEL_BAD_ARGUMENT', `value cannot be stored as JSON (${(error as Error).message})`, { cause: error });
  }
  if (text === undefined) throw badArgument(`value cannot be stored as JSON: ${describeType(value)}`);
  return text;
}

/** Turns verified bytes back into the caller's value. `bytes` is owned by the caller. */
export function decodeValue(bytes: Buffer, encoding: ValueEncoding): unknown {
  if (encoding === 'binary') return bytes;
  const text = bytes.toString('utf8');
  if (encoding === 'utf8') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new KeelError('KEEL_BAD_ARGUMENT', `a stored value is not JSON; was the store written with another valueEncoding?`, { cause: error });
  }
}
