import { crc32c } from '@keel/core';

/**
 * Self-describing payloads for the kill test: sequence number (u32 LE), body length
 * (u16 LE), a body derived from the sequence number, and a CRC-32C of all that. The
 * checker needs nothing but the bytes to tell an intact record from a damaged one.
 */
const HEADER_BYTES = 6;
const CRC_BYTES = 4;

export function makePayload(sequence: number): Uint8Array {
  const bodyBytes = (sequence * 37) % 300;
  const payload = new Uint8Array(HEADER_BYTES + bodyBytes + CRC_BYTES);
  const view = new DataView(payload.buffer);
  view.setUint32(0, sequence, true);
  view.setUint16(4, bodyBytes, true);
  for (let i = 0; i < bodyBytes; i++) payload[HEADER_BYTES + i] = (sequence + i * 13) & 0xff;
  view.setUint32(HEADER_BYTES + bodyBytes, crc32c(payload.subarray(0, HEADER_BYTES + bodyBytes)), true);
  return payload;
}

/** The sequence number of an intact payload, or null for a damaged one. */
export function checkPayload(payload: Uint8Array): number | null {
  if (payload.length < HEADER_BYTES + CRC_BYTES) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const bodyBytes = view.getUint16(4, true);
  if (payload.length !== HEADER_BYTES + bodyBytes + CRC_BYTES) return null;
  const crc = view.getUint32(HEADER_BYTES + bodyBytes, true);
  if (crc32c(payload.subarray(0, HEADER_BYTES + bodyBytes)) !== crc) return null;
  const sequence = view.getUint32(0, true);
  return Buffer.from(payload).equals(Buffer.from(makePayload(sequence))) ? sequence : null;
}
