import { KeelError, type KeelErrorDetails } from './errors.js';

/**
 * u64 fields on disk hold byte positions and sizes, which keel keeps as numbers: exact
 * only up to 2^53 − 1. Reading a larger value is corruption (it was never written by
 * keel); writing one is a value keel cannot represent. Neither is ever rounded.
 */
export const UINT64_NUMBER_MAX = Number.MAX_SAFE_INTEGER;

/** The little-endian u64 at `byteOffset` as a number, or null when it is above 2^53 − 1. */
export function getSafeUint64(view: DataView, byteOffset: number): number | null {
  const value = view.getBigUint64(byteOffset, true);
  return value > BigInt(UINT64_NUMBER_MAX) ? null : Number(value);
}

/**
 * The little-endian u64 at `byteOffset` of bytes read from disk as a number; refuses one
 * above 2^53 − 1 with KEEL_CORRUPT (`details` name the file and its offset).
 */
export function readUint64(view: DataView, byteOffset: number, what: string, details: KeelErrorDetails = {}): number {
  const value = getSafeUint64(view, byteOffset);
  if (value === null) {
    throw new KeelError('KEEL_CORRUPT', `${what} is ${view.getBigUint64(byteOffset, true)}, past 2^53 − 1: not written by keel`, details);
  }
  return value;
}

/** Writes `value` as a little-endian u64; refuses anything but an integer in [0, 2^53 − 1] with KEEL_TOO_LARGE. */
export function writeUint64(view: DataView, byteOffset: number, value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KeelError('KEEL_TOO_LARGE', `${what} must be an integer in [0, 2^53 − 1] to be stored as a u64, got ${value}`);
  }
  view.setBigUint64(byteOffset, BigInt(value), true);
}
