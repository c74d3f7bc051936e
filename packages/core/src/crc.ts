import * as native from '@keel/native';

/** CRC-32C (Castagnoli), hardware-accelerated where the CPU has it. */
export function crc32c(data: Uint8Array, seed = 0): number {
  return native.crc32c(data, seed);
}

/** CRC-32 (IEEE). */
export function crc32(data: Uint8Array, seed = 0): number {
  return native.crc32(data, seed);
}
