/**
 * Unsigned LEB128 varints of safe integers (at most 2^53 - 1, so at most 8 bytes), and
 * zigzag for the signed timestamp deltas. Values below 2^31 take the 32-bit path; the
 * rest divide, since JavaScript's bit operators cut at 32 bits.
 */

/** 8 × 7 bits = 56 ≥ 53: no safe integer needs more. */
export const VARINT_BYTES_MAX = 8;
/** The largest |delta| a zigzag varint carries exactly: zigzag doubles it, and the result must stay a safe integer. */
export const ZIGZAG_MAGNITUDE_MAX = 2 ** 52 - 1;

const TWO_POW_31 = 2 ** 31;

/** Bytes the varint of `value` (a non-negative safe integer) takes. */
export function varintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let bytes = 4;
  for (let rest = Math.floor(value / 0x1000_0000); rest > 0; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** Writes the varint of `value` (a non-negative safe integer) at `at`; returns the position after it. */
export function writeVarint(target: Uint8Array, at: number, value: number): number {
  if (value < 0x80) {
    target[at] = value;
    return at + 1;
  }
  let rest = value;
  // Past 2^31 the bit operators would cut the value: divide until it is below.
  while (rest >= TWO_POW_31) {
    target[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  while (rest >= 0x80) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[at] = rest;
  return at + 1;
}

/** Zigzag of a delta with |delta| ≤ ZIGZAG_MAGNITUDE_MAX: 0, -1, 1, -2 … become 0, 1, 2, 3 … */
export function zigzag(delta: number): number {
  return delta >= 0 ? delta * 2 : -delta * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/**
 * A varint read from bytes that may be hostile: `value` is -1 when it runs past `end`,
 * takes more than VARINT_BYTES_MAX bytes, or is not a safe integer. `next` is where the
 * bytes after it start. One object, reused by each reader, so a read allocates nothing.
 */
export interface VarintRead {
  value: number;
  next: number;
}

/** Reads the varint at `at`, never looking at or past `end`; see VarintRead for a malformed one. */
export function readVarint(bytes: Uint8Array, at: number, end: number, out: VarintRead): VarintRead {
  if (at < end) {
    const first = bytes[at] as number;
    if (first < 0x80) {
      out.value = first;
      out.next = at + 1;
      return out;
    }
  }
  let value = 0;
  let scale = 1;
  for (let index = 0; index < VARINT_BYTES_MAX && at + index < end; index++) {
    const byte = bytes[at + index] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      // A trailing zero byte would be a second spelling of a shorter varint: refused, so every value has one encoding.
      const canonical = index === 0 || byte !== 0;
      out.value = canonical && Number.isSafeInteger(value) ? value : -1;
      out.next = at + index + 1;
      return out;
    }
    scale *= 0x80;
  }
  out.value = -1;
  out.next = end;
  return out;
}
