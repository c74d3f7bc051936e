import { Buffer } from 'node:buffer';
import { KeelError, badArgument, describeType } from '@keel/core';
import { KEY_BYTES_MAX, VALUE_BYTES_MAX } from './limits.js';

/**
 * Keys are bytes on disk: a string key is its UTF-8 encoding. Inside the store a key is
 * in its byte form (`KeyBytes`): an ASCII string as it is (its UTF-8 and latin1 bytes are
 * the same, so it is written with no conversion), any other string as its UTF-8 bytes, a
 * Uint8Array as it is. `.length` of either form is the key's byte length.
 */
export type Key = string | Uint8Array;
export type KeyBytes = string | Uint8Array;
export type KeyEncoding = 'utf8' | 'binary';
export type ValueEncoding = 'binary' | 'utf8' | 'json';

const NON_ASCII = /[^\x00-\x7f]/;
/**
 * Below this many characters a string key is checked for ASCII and copied a character at
 * a time: cheaper than a regular expression or the call into Buffer's encoder, whose
 * fixed cost dominates for keys of a few dozen bytes.
 */
const SHORT_KEY_CHARACTERS = 32;

/** The byte form of a key, validated (non-empty, at most KEY_BYTES_MAX bytes). */
export function keyBytesOf(key: unknown, name = 'key'): KeyBytes {
  const bytes = boundBytesOf(key, name);
  if (bytes.length === 0) throw badArgument(`${name} must not be empty`);
  return bytes;
}

/** The byte form of a range bound or prefix: a key that may be empty. */
export function boundBytesOf(key: unknown, name: string): KeyBytes {
  let bytes: KeyBytes;
  if (typeof key === 'string') bytes = isAscii(key) ? key : Buffer.from(key, 'utf8');
  else if (key instanceof Uint8Array) bytes = key;
  else throw badArgument(`${name} must be a string or a Uint8Array, got ${describeType(key)}`);
  if (bytes.length > KEY_BYTES_MAX) throw new KeelError('KEEL_TOO_LARGE', `${name} is ${bytes.length} bytes; the maximum is ${KEY_BYTES_MAX}`);
  return bytes;
}

/**
 * Whether every character of `text` is ASCII. Short keys are checked a character at a
 * time: a regular expression's fixed cost per call is most of what a key of a few dozen
 * characters costs, and every key of every put passes here (a batch of a thousand
 * 13-character keys: about 60 µs less).
 */
function isAscii(text: string): boolean {
  if (text.length >= SHORT_KEY_CHARACTERS) return !NON_ASCII.test(text);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A key's bytes as a Uint8Array (an ASCII string's latin1 bytes are its UTF-8 bytes). */
export function keyBuffer(key: KeyBytes): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
}

/** Writes a key's bytes into `target` at `offset`. */
export function writeKey(target: Buffer, key: KeyBytes, offset: number): void {
  if (typeof key !== 'string') target.set(key, offset);
  else if (key.length >= SHORT_KEY_CHARACTERS) target.write(key, offset, key.length, 'latin1');
  else for (let i = 0; i < key.length; i++) target[offset + i] = key.charCodeAt(i);
}

/**
 * Writes a string key's UTF-8 bytes into `target` from 0; returns their count. `target`
 * must hold 3 bytes per character (UTF-8's most per UTF-16 code unit). Short ASCII keys
 * are copied a character at a time, as `writeKey` copies them.
 */
export function writeUtf8Key(target: Buffer, key: string): number {
  if (key.length < SHORT_KEY_CHARACTERS) {
    let i = 0;
    for (; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code > 0x7f) break;
      target[i] = code;
    }
    if (i === key.length) return i;
  }
  return target.write(key, 0, 'utf8');
}

/** A key read back from the index (`bytes` is the caller's to keep) in the caller's encoding. */
export function decodeKey(bytes: Buffer, encoding: KeyEncoding): string | Buffer {
  return encoding === 'binary' ? bytes : bytes.toString('utf8');
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
  return decodeText(bytes.toString('utf8'), encoding);
}

/** A value decoded from its text under a text encoding. */
export function decodeText(text: string, encoding: 'utf8' | 'json'): unknown {
  if (encoding === 'utf8') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new KeelError('KEEL_BAD_ARGUMENT', `a stored value is not JSON; was the store written with another valueEncoding?`, { cause: error });
  }
}
