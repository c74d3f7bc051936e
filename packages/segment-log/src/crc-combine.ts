import { crc32c } from '@keel/core';

/**
 * Checking many frames with one CRC call. Every whole frame, CRC trailer included, has
 * the same CRC-32C (the residue), and CRC-32C(A‖B) = shift(CRC(A), |B|) ⊕ CRC(B), where
 * shift feeds |B| zero bytes through the register (zlib's crc32_combine). So the CRC of
 * a run of valid frames is known from their lengths alone, and one native call over the
 * run checks them all; only when it disagrees are frames checked one by one to find the
 * bad one. The chance of missing damage is 2^-32 per run, as it is per frame.
 */
export const FRAME_CRC_RESIDUE = 0x4867_4bc7;

/** CRC-32C (Castagnoli) polynomial, bit-reflected. */
const CRC32C_POLYNOMIAL_REFLECTED = 0x82f6_3b78;
const MATRIX_ROWS = 32;
/** Cached shift operators, one per frame length seen; cleared when it grows past this. */
const SHIFT_CACHE_ENTRIES_MAX = 4096;

function matrixTimes(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let row = 0; vector !== 0; row++, vector >>>= 1) if (vector & 1) sum ^= matrix[row] as number;
  return sum >>> 0;
}

function compose(outer: Uint32Array, inner: Uint32Array): Uint32Array {
  const out = new Uint32Array(MATRIX_ROWS);
  for (let row = 0; row < MATRIX_ROWS; row++) out[row] = matrixTimes(outer, inner[row] as number);
  return out;
}

/** byteShifts[k]: the operator for 2^k zero bytes. */
const byteShifts: Uint32Array[] = (() => {
  const oneBit = new Uint32Array(MATRIX_ROWS);
  oneBit[0] = CRC32C_POLYNOMIAL_REFLECTED;
  for (let row = 1; row < MATRIX_ROWS; row++) oneBit[row] = (1 << (row - 1)) >>> 0;
  let operator: Uint32Array = oneBit;
  for (let bits = 1; bits < 8; bits *= 2) operator = compose(operator, operator);
  const powers: Uint32Array[] = [operator];
  for (let k = 1; k < 32; k++) powers.push(compose(powers[k - 1] as Uint32Array, powers[k - 1] as Uint32Array));
  return powers;
})();

const shiftCache = new Map<number, Uint32Array>();

function shiftOperator(length: number): Uint32Array {
  let operator = shiftCache.get(length);
  if (operator !== undefined) return operator;
  for (let k = 0, rest = length; rest > 0; k++, rest = Math.floor(rest / 2)) {
    if (rest % 2 === 0) continue;
    const power = byteShifts[k] as Uint32Array;
    operator = operator === undefined ? power : compose(power, operator);
  }
  operator ??= identity();
  if (shiftCache.size >= SHIFT_CACHE_ENTRIES_MAX) shiftCache.clear();
  shiftCache.set(length, operator);
  return operator;
}

function identity(): Uint32Array {
  const out = new Uint32Array(MATRIX_ROWS);
  for (let row = 0; row < MATRIX_ROWS; row++) out[row] = (1 << row) >>> 0;
  return out;
}

/**
 * Whether `bytes[start, ends[last])` is a run of frames that each carry a valid CRC,
 * where `ends` lists where each frame ends (frames are back to back from `start`).
 */
export function framesHaveValidCrcs(bytes: Uint8Array, start: number, ends: readonly number[]): boolean {
  if (ends.length === 0) return true;
  let expected = FRAME_CRC_RESIDUE;
  for (let index = 1; index < ends.length; index++) {
    const length = (ends[index] as number) - (ends[index - 1] as number);
    expected = (matrixTimes(shiftOperator(length), expected) ^ FRAME_CRC_RESIDUE) >>> 0;
  }
  return crc32c(bytes.subarray(start, ends[ends.length - 1])) === expected;
}
