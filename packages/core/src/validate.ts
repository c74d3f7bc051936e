import { KeelError, badArgument } from './errors.js';

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

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `a string of length ${value.length}`;
  return `${typeof value} ${String(value)}`;
}

/** Checks a batch argument: an array of byte arrays, each at most `max` bytes. */
export function assertPayloads(value: unknown, max: number, name = 'payloads'): asserts value is readonly Uint8Array[] {
  assertArray(value, name);
  for (let i = 0; i < value.length; i++) {
    const payload: unknown = value[i];
    assertBytes(payload, `${name}[${i}]`);
    assertMaxBytes(payload, max, `${name}[${i}]`);
  }
}
