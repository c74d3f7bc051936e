import { KeelError, badArgument } from './errors.js';
import type { Io } from './io.js';

/** Largest byte offset keel accepts: JS numbers are exact integers only below 2^53. */
export const POSITION_MAX = Number.MAX_SAFE_INTEGER;

export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw badArgument(`${name} must be a Uint8Array (or Buffer), got ${describeType(value)}`);
  }
}

export function assertMaxBytes(value: Uint8Array, max: number, name: string): void {
  if (value.length > max) throw new KeelError('KEEL_TOO_LARGE', `${name} is ${value.length} bytes; the maximum is ${max}`);
}

export function assertPosition(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > POSITION_MAX) {
    throw badArgument(`${name} must be a non-negative safe integer, got ${describeType(value)}`);
  }
}

export function assertArray(value: unknown, name: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw badArgument(`${name} must be an array, got ${describeType(value)}`);
}

/** The `readOnly` option every store shares: a boolean, default false. */
export function normalizeReadOnly(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw badArgument(`readOnly must be a boolean, got ${describeType(value)}`);
  return value;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `a bigint ${String(value)}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `a string of length ${value.length}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Checks a batch argument: an array of byte arrays, each at most `max` bytes. The name of
 * a bad element is built only once one is found: a template string per element cost
 * more than the whole check (27 µs of a 1,000-record batch).
 */
export function assertPayloads(value: unknown, max: number, name = 'payloads'): asserts value is readonly Uint8Array[] {
  assertArray(value, name);
  for (let i = 0; i < value.length; i++) {
    const payload: unknown = value[i];
    if (!(payload instanceof Uint8Array) || payload.length > max) {
      assertBytes(payload, `${name}[${i}]`);
      assertMaxBytes(payload, max, `${name}[${i}]`);
    }
  }
}

/**
 * Checks a file-system path before it reaches the OS: a NUL byte would end the C string
 * early (the kernel answers EINVAL, or worse, a shorter path), so it is the caller's
 * mistake, not an I/O failure.
 */
export function assertPath(value: unknown, name = 'path'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw badArgument(`${name} must be a non-empty string without NUL bytes, got ${describeType(value)}`);
  }
}

const IO_METHODS = ['open', 'stat', 'list', 'mkdir', 'remove', 'rename', 'syncDir', 'syncDirSync'] as const;

/**
 * The `io` option of a store: undefined for the default, else something with every Io
 * method. Checked at open so that a wrong object is the caller's KEEL_BAD_ARGUMENT, not a
 * TypeError from deep inside recovery.
 */
export function normalizeIo(value: unknown, fallback: Io): Io {
  if (value === undefined) return fallback;
  if (value === null || typeof value !== 'object') throw badArgument(`io must be an Io, got ${describeType(value)}`);
  const missing = IO_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) throw badArgument(`io must be an Io; it has no ${missing.join(', ')}`);
  return value as Io;
}
