import { FRAME_HEADER_BYTES, sealFrameRun, writeFrameHeader } from '@keel/core';
import { FRAME_BINDING_BYTES, PAYLOAD_FRAME_FORMAT, payloadFrameBytes } from './format.js';

/**
 * A payload frame is core's frame whose payload starts with where the frame belongs:
 *
 *   magic, length (payload length + FRAME_BINDING_BYTES)
 *   segment  u32 LE   the segment the frame was written to
 *   offset   u64 LE   the offset of the frame (its magic) in that segment
 *   payload
 *   crc      CRC-32C of all of the above
 *
 * A frame found at any other place (a misdirected write, a stale block of a reused file,
 * a frame copied from another segment) fails `isBoundTo` even though its CRC verifies.
 */
const TWO_TO_32 = 2 ** 32;

/**
 * Encodes the frames of `payloads`, the first at `offset` of `segment` and each next one
 * right after it, into one buffer: headers, bindings and payloads copied here, the CRCs of
 * the whole run filled in by one native call.
 */
export function encodeBoundFrames(payloads: readonly Uint8Array[], segment: number, offset: number): Uint8Array {
  let total = 0;
  for (const payload of payloads) total += payloadFrameBytes(payload.length);
  const target = new Uint8Array(total);
  encodeBoundFramesInto(target, payloads, segment, offset);
  return target;
}

/**
 * `encodeBoundFrames` into the start of `target`, which must have room for them (a
 * buffer reused from batch to batch); returns the bytes written.
 */
export function encodeBoundFramesInto(target: Uint8Array, payloads: readonly Uint8Array[], segment: number, offset: number): number {
  let position = 0;
  for (const payload of payloads) {
    writeFrameHeader(target, position, payload.length + FRAME_BINDING_BYTES, PAYLOAD_FRAME_FORMAT);
    writeBinding(target, position, segment, offset + position);
    target.set(payload, position + FRAME_HEADER_BYTES + FRAME_BINDING_BYTES);
    position += payloadFrameBytes(payload.length);
  }
  if (position > 0) sealFrameRun(target.subarray(0, position));
  return position;
}

// Byte writes rather than a DataView: the append path writes one binding per payload.
function writeBinding(target: Uint8Array, frameAt: number, segment: number, offset: number): void {
  const at = frameAt + FRAME_HEADER_BYTES;
  writeU32(target, at, segment);
  writeU32(target, at + 4, offset % TWO_TO_32);
  writeU32(target, at + 8, Math.floor(offset / TWO_TO_32));
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value;
  target[at + 1] = value >>> 8;
  target[at + 2] = value >>> 16;
  target[at + 3] = value >>> 24;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * Whether the frame at `frameAt` of `bytes` (its checksum already verified, its payload
 * at least FRAME_BINDING_BYTES long) was written at `offset` of `segment`.
 */
export function isBoundTo(bytes: Uint8Array, frameAt: number, segment: number, offset: number): boolean {
  return bindingMatches(bytes, frameAt + FRAME_HEADER_BYTES, segment, offset);
}

/**
 * Whether a verified frame's payload (core's view of it: binding, then the caller's
 * payload) says it was written at `offset` of `segment`.
 */
export function payloadIsBoundTo(framePayload: Uint8Array, segment: number, offset: number): boolean {
  return framePayload.length >= FRAME_BINDING_BYTES && bindingMatches(framePayload, 0, segment, offset);
}

function bindingMatches(bytes: Uint8Array, at: number, segment: number, offset: number): boolean {
  return readU32(bytes, at) === segment && readU32(bytes, at + 4) === offset % TWO_TO_32 && readU32(bytes, at + 8) === Math.floor(offset / TWO_TO_32);
}
