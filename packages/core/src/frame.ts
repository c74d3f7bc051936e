import { sealFrames } from '@keel/native';
import { crc32c } from './crc.js';
import { KeelError, badArgument } from './errors.js';

/**
 * A frame is the unit every keel file is made of:
 *
 *   magic   u32 big-endian     identifies the format and its version
 *   length  u32 little-endian  payload bytes, at most `payloadBytesMax`
 *   payload `length` bytes
 *   crc     u32 little-endian  CRC-32C over magic + length + payload
 *
 * This is byte-for-byte the fsys 0.9 journal frame. Other backends use the same layout
 * with their own magic, so one scanner and one recovery routine serve all of them.
 */
export const FRAME_HEADER_BYTES = 8;
export const FRAME_TRAILER_BYTES = 4;
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
/** The largest payload the length field may announce (2^28 − 1, as in fsys). */
export const FRAME_PAYLOAD_BYTES_MAX = 0x0fff_ffff;

export interface FrameFormat {
  /** u32 written big-endian at the start of every frame. */
  readonly magic: number;
  /** Upper bound for the length field; never above FRAME_PAYLOAD_BYTES_MAX. */
  readonly payloadBytesMax: number;
}

/** The fsys 0.9 journal frame: magic "FSY\x01". */
export const FSYS_FRAME_FORMAT: FrameFormat = Object.freeze({
  magic: 0x4653_5901,
  payloadBytesMax: FRAME_PAYLOAD_BYTES_MAX,
});

export function defineFrameFormat(magic: number, payloadBytesMax = FRAME_PAYLOAD_BYTES_MAX): FrameFormat {
  if (!Number.isInteger(magic) || magic < 0 || magic > 0xffff_ffff) throw badArgument(`frame magic must be a u32, got ${magic}`);
  if (!Number.isInteger(payloadBytesMax) || payloadBytesMax < 0 || payloadBytesMax > FRAME_PAYLOAD_BYTES_MAX) {
    throw badArgument(`payloadBytesMax must be an integer in [0, ${FRAME_PAYLOAD_BYTES_MAX}], got ${payloadBytesMax}`);
  }
  return Object.freeze({ magic, payloadBytesMax });
}

export function frameBytes(payloadLength: number): number {
  return payloadLength + FRAME_OVERHEAD_BYTES;
}

/** Writes one frame into `target` at `offset`; returns the offset just past it. */
export function encodeFrameInto(target: Uint8Array, offset: number, payload: Uint8Array, format: FrameFormat): number {
  assertWithinBound(payload.length, format);
  const end = offset + frameBytes(payload.length);
  if (end > target.length) throw badArgument(`frame of ${frameBytes(payload.length)} bytes does not fit at ${offset}`);
  writeHeader(target, offset, payload.length, format);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  const crcEnd = offset + FRAME_HEADER_BYTES + payload.length;
  writeU32LittleEndian(target, crcEnd, crc32c(target.subarray(offset, crcEnd)));
  return end;
}

// Byte writes rather than a DataView: the append path encodes one frame per record.
function writeU32BigEndian(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

function writeU32LittleEndian(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value;
  target[offset + 1] = value >>> 8;
  target[offset + 2] = value >>> 16;
  target[offset + 3] = value >>> 24;
}

export function encodeFrame(payload: Uint8Array, format: FrameFormat): Uint8Array {
  const frame = new Uint8Array(frameBytes(payload.length));
  encodeFrameInto(frame, 0, payload, format);
  return frame;
}

/**
 * Writes the frames of many payloads into `target` from `offset` and returns the offset
 * just past them. Headers and payloads are copied here; the CRCs of the whole run are
 * then filled in by one native call, not one call per record.
 */
export function encodeFramesInto(target: Uint8Array, offset: number, payloads: readonly Uint8Array[], format: FrameFormat): number {
  let position = offset;
  for (const payload of payloads) {
    assertWithinBound(payload.length, format);
    const end = position + frameBytes(payload.length);
    if (end > target.length) throw badArgument(`frames of ${end - offset} bytes do not fit at ${offset}`);
    writeHeader(target, position, payload.length, format);
    target.set(payload, position + FRAME_HEADER_BYTES);
    position = end;
  }
  if (position > offset) sealFrameRun(target.subarray(offset, position));
  return position;
}

/**
 * Writes a frame's magic and length at `offset`, for backends that build the payload in
 * place behind it; `sealFrameRun` then fills in the CRC.
 */
export function writeFrameHeader(target: Uint8Array, offset: number, payloadLength: number, format: FrameFormat): void {
  assertWithinBound(payloadLength, format);
  writeHeader(target, offset, payloadLength, format);
}

function assertWithinBound(payloadLength: number, format: FrameFormat): void {
  if (payloadLength > format.payloadBytesMax) {
    throw new KeelError('KEEL_TOO_LARGE', `payload of ${payloadLength} bytes exceeds the maximum of ${format.payloadBytesMax}`);
  }
}

function writeHeader(target: Uint8Array, offset: number, payloadLength: number, format: FrameFormat): void {
  writeU32BigEndian(target, offset, format.magic);
  writeU32LittleEndian(target, offset + 4, payloadLength);
}

/**
 * Fills in the CRC of every frame in `region`, whose headers and payloads a backend has
 * already written in place with the CRC slots left open: one native call per run. The
 * header lengths must tile the region exactly (an encoder bug otherwise, thrown as such).
 */
export function sealFrameRun(region: Uint8Array): number {
  return sealFrames(region);
}

/** Encodes many payloads into one buffer so that a batch costs one write. */
export function encodeFrames(payloads: readonly Uint8Array[], format: FrameFormat): Uint8Array {
  let total = 0;
  for (const payload of payloads) total += frameBytes(payload.length);
  const out = new Uint8Array(total);
  encodeFramesInto(out, 0, payloads, format);
  return out;
}

/** What sits at a position of a frame stream. `clean-end` means nothing does. */
export type TailState =
  | 'clean-end'
  | 'truncated-header'
  | 'truncated-payload'
  | 'checksum-mismatch'
  | 'bad-magic'
  | 'length-overflow';

export type FrameCheck =
  | { readonly ok: true; readonly payloadLength: number; readonly frameBytes: number }
  | { readonly ok: false; readonly state: Exclude<TailState, 'clean-end'> };

const MAGIC_BYTES = 4;

/**
 * Checks the frame starting at `offset` of `bytes`, where `bytes` ends where the stream
 * ends (the caller passes a window reaching end of file, or one it knows holds the whole
 * frame). The length is compared with its bound before anything else uses it.
 */
export function checkFrameAt(bytes: Uint8Array, offset: number, format: FrameFormat): FrameCheck {
  const available = bytes.length - offset;
  const magicBytesPresent = Math.min(available, MAGIC_BYTES);
  for (let i = 0; i < magicBytesPresent; i++) {
    if (bytes[offset + i] !== (format.magic >>> (8 * (3 - i))) % 256) return BAD_MAGIC;
  }
  if (available < FRAME_HEADER_BYTES) return TRUNCATED_HEADER;
  const payloadLength = readU32LittleEndian(bytes, offset + 4);
  if (payloadLength > format.payloadBytesMax) return LENGTH_OVERFLOW;
  const total = frameBytes(payloadLength);
  if (available < total) return TRUNCATED_PAYLOAD;
  const crcEnd = offset + FRAME_HEADER_BYTES + payloadLength;
  if (crc32c(bytes.subarray(offset, crcEnd)) !== readU32LittleEndian(bytes, crcEnd)) return CHECKSUM_MISMATCH;
  return { ok: true, payloadLength, frameBytes: total };
}

// Shared results: the scanner checks one frame per record, so failures allocate nothing.
const BAD_MAGIC: FrameCheck = Object.freeze({ ok: false, state: 'bad-magic' });
const TRUNCATED_HEADER: FrameCheck = Object.freeze({ ok: false, state: 'truncated-header' });
const LENGTH_OVERFLOW: FrameCheck = Object.freeze({ ok: false, state: 'length-overflow' });
const TRUNCATED_PAYLOAD: FrameCheck = Object.freeze({ ok: false, state: 'truncated-payload' });
const CHECKSUM_MISMATCH: FrameCheck = Object.freeze({ ok: false, state: 'checksum-mismatch' });

/** A u32 little-endian at `offset` (the frame length and CRC fields). */
export function readU32LittleEndian(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

/** Decodes a buffer that must hold exactly one valid frame; returns a view of its payload. */
export function decodeFrame(bytes: Uint8Array, format: FrameFormat, where: { path?: string; offset?: number } = {}): Uint8Array {
  const check = checkFrameAt(bytes, 0, format);
  if (!check.ok) {
    throw new KeelError('KEEL_CORRUPT', `frame${where.path ? ` in ${where.path}` : ''} at offset ${where.offset ?? 0} is damaged: ${check.state}`, where);
  }
  if (check.frameBytes !== bytes.length) {
    throw new KeelError('KEEL_CORRUPT', `frame at offset ${where.offset ?? 0} is ${check.frameBytes} bytes, expected ${bytes.length}`, where);
  }
  return bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + check.payloadLength);
}
