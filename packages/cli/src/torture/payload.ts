/**
 * Torture payloads: each names its record id and is fully determined by it, so a reader
 * tells an intact record from a damaged or invented one without any other state.
 * Layout: id (u32 high, u32 low, LE), body length (u32 LE), body (xorshift32 from the id).
 */
const HEADER_BYTES = 12;
const BODY_BYTES_MAX = 200;

export function makePayload(id: number): Uint8Array {
  const length = 16 + (id % BODY_BYTES_MAX);
  const bytes = new Uint8Array(HEADER_BYTES + length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Math.floor(id / 2 ** 32), true);
  view.setUint32(4, id >>> 0, true);
  view.setUint32(8, length, true);
  fillBody(bytes.subarray(HEADER_BYTES), id);
  return bytes;
}

/** The payload's id when it is exactly what `makePayload(id)` gives, else null. */
export function checkPayload(bytes: Uint8Array): number | null {
  if (bytes.length < HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint32(0, true) * 2 ** 32 + view.getUint32(4, true);
  if (!Number.isSafeInteger(id) || view.getUint32(8, true) !== bytes.length - HEADER_BYTES) return null;
  const expected = makePayload(id);
  return Buffer.compare(Buffer.from(expected), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === 0 ? id : null;
}

function fillBody(body: Uint8Array, id: number): void {
  let state = (id ^ 0x9e37_79b9) >>> 0 || 1;
  for (let i = 0; i < body.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    body[i] = state & 0xff;
  }
}
