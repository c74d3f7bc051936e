import * as native from '@keel/native';

/** CRC-32C (Castagnoli), hardware-accelerated where the CPU has it. */
export function crc32c(data: Uint8Array, seed = 0): number {
  return native.crc32c(data, seed);
}

/** CRC-32 (IEEE). */
export function crc32(data: Uint8Array, seed = 0): number {
  return native.crc32(data, seed);
}

/**
 * A value read back and checked in one native call: when the CRC-32C stored (u32 LE) at
 * `data[offset..offset + 4]` matches the `length` bytes after it, seeded with `seed`, a
 * copy of those bytes (in a buffer allocated here, from Node's pool when small); null
 * when it does not.
 */
export function verifiedValueCopy(data: Uint8Array, offset: number, length: number, seed: number): Buffer | null {
  const value = Buffer.allocUnsafe(length);
  return native.verifiedCopy(data, offset, length, seed, value) ? value : null;
}
