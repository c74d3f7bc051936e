import { FRAME_HEADER_BYTES, KeelError, badArgument, checkFrameAt, crc32c, type Io } from '@keel/core';
import { FRAME_BINDING_BYTES, MAPPED_SEGMENT_BYTES_MAX, PAYLOAD_FRAME_FORMAT, PAYLOAD_FRAME_MAGIC, payloadFrameBytes } from './format.js';
import { isBoundTo } from './frame-binding.js';
import type { PayloadRef } from './payload-ref.js';
import type { MappedSegment, SegmentState } from './segment.js';

/** Where a payload starts in its frame: after the frame header and the binding. */
const PAYLOAD_AT = FRAME_HEADER_BYTES + FRAME_BINDING_BYTES;

/**
 * Reads one payload and verifies it against its ref: the frame must start with our
 * magic, announce exactly `ref.length` bytes (plus its binding), pass its CRC-32C and be
 * bound to the ref's segment and offset. Sealed segments are
 * served from one mapping of the whole file (zero-copy); the active segment with one
 * positional read of just this frame.
 */
export function readPayload(io: Io, state: SegmentState, ref: PayloadRef): Uint8Array {
  const bytes = payloadFrameBytes(ref.length);
  if (ref.offset + bytes > state.end) {
    throw badArgument(`ref ${ref.segment}:${ref.offset}+${ref.length} reaches past the valid end (${state.end}) of ${state.path}`);
  }
  if (state.sealed && state.end <= MAPPED_SEGMENT_BYTES_MAX) return readMapped(state.view ?? mapSealed(io, state), ref, state.path);
  const frame = new Uint8Array(bytes);
  // The active segment's handle is its writer; an unmappable sealed segment gets a read-only one.
  const file = state.file ?? (state.file = io.open(state.path));
  const read = file.readSync(frame, ref.offset);
  if (read !== bytes) throw new KeelError('KEEL_CORRUPT', `${state.path} ends inside the frame at ${ref.offset}`, { path: state.path, offset: ref.offset });
  return verifyFrame(frame, ref, state.path);
}

/** Maps a sealed segment once; the mapping lives as long as any view of it does. */
export function mapSealed(io: Io, state: SegmentState): MappedSegment {
  const file = io.open(state.path);
  try {
    const bytes = file.mapSync(0, state.end);
    state.view = { bytes, data: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  } finally {
    file.closeSync();
  }
  return state.view;
}

/** The hot path of sealed reads: header fields straight from the DataView, one CRC call, one subarray. */
function readMapped(mapped: MappedSegment, ref: PayloadRef, path: string): Uint8Array {
  return verifyPayloadAt(mapped, ref.offset, ref, path);
}

/**
 * Verifies the frame of `ref` found at `at` of `held` (a mapping of its segment, or bytes
 * read from it starting `ref.offset − at` into the file) and returns a view of its payload.
 */
export function verifyPayloadAt(held: MappedSegment, at: number, ref: PayloadRef, path: string): Uint8Array {
  const { bytes, data } = held;
  const payloadEnd = at + PAYLOAD_AT + ref.length;
  if (data.getUint32(at, false) !== PAYLOAD_FRAME_MAGIC || data.getUint32(at + 4, true) !== ref.length + FRAME_BINDING_BYTES) {
    return verifyFrame(bytes.subarray(at, payloadEnd + 4), ref, path);
  }
  if (crc32c(bytes.subarray(at, payloadEnd)) !== data.getUint32(payloadEnd, true)) {
    throw new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} does not verify (checksum-mismatch)`, { path, offset: ref.offset });
  }
  if (!isBoundTo(bytes, at, ref.segment, ref.offset)) throw misplaced(path, ref);
  return bytes.subarray(at + PAYLOAD_AT, payloadEnd);
}

function misplaced(path: string, ref: PayloadRef): KeelError {
  return new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} verifies but was written to another place (a misdirected or stale frame)`, { path, offset: ref.offset });
}

/** Full check of one frame; throws KEEL_CORRUPT naming what is wrong. */
function verifyFrame(frame: Uint8Array, ref: PayloadRef, path: string): Uint8Array {
  const check = checkFrameAt(frame, 0, PAYLOAD_FRAME_FORMAT);
  const where = { path, offset: ref.offset };
  if (!check.ok) {
    // A header announcing more bytes than the ref shows up as truncated-payload here.
    throw new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} does not verify (${check.state})`, where);
  }
  if (check.payloadLength !== ref.length + FRAME_BINDING_BYTES) {
    throw new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} holds ${check.payloadLength - FRAME_BINDING_BYTES} bytes, the ref says ${ref.length}`, where);
  }
  if (!isBoundTo(frame, 0, ref.segment, ref.offset)) throw misplaced(path, ref);
  return frame.subarray(PAYLOAD_AT, PAYLOAD_AT + ref.length);
}
