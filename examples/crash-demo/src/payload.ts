import { crc32c } from '@keel/core';

/**
 * Demo records describe themselves: sequence number (u32 LE), body length (u16 LE), a
 * body derived from the sequence number, and a CRC-32C over all of that. The checker
 * needs only the bytes to tell an intact record from a damaged or foreign one.
 */
const HEADER_BYTES = 6;
const CRC_BYTES = 4;
const BODY_BYTES_MAX = 200;

export function makePayload(sequence: number): Uint8Array {
  const bodyBytes = (sequence * 31) % BODY_BYTES_MAX;
  const payload = new Uint8Array(HEADER_BYTES + bodyBytes + CRC_BYTES);
  const view = new DataView(payload.buffer);
  view.setUint32(0, sequence, true);
  view.setUint16(4, bodyBytes, true);
  for (let i = 0; i < bodyBytes; i++) payload[HEADER_BYTES + i] = (sequence * 7 + i) & 0xff;
  view.setUint32(HEADER_BYTES + bodyBytes, crc32c(payload.subarray(0, HEADER_BYTES + bodyBytes)), true);
  return payload;
}

/** The sequence number of an intact record, or null. */
export function checkPayload(payload: Uint8Array): number | null {
  if (payload.length < HEADER_BYTES + CRC_BYTES) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const bodyBytes = view.getUint16(4, true);
  if (bodyBytes >= BODY_BYTES_MAX || payload.length !== HEADER_BYTES + bodyBytes + CRC_BYTES) return null;
  if (crc32c(payload.subarray(0, HEADER_BYTES + bodyBytes)) !== view.getUint32(HEADER_BYTES + bodyBytes, true)) return null;
  const sequence = view.getUint32(0, true);
  const expected = makePayload(sequence);
  for (let i = 0; i < expected.length; i++) if (expected[i] !== payload[i]) return null;
  return sequence;
}
