import { FRAME_HEADER_BYTES, FrameScanner, KeelError, checkFrameAt, type Io } from '@keel/core';
import { FRAME_BINDING_BYTES, MAPPED_SEGMENT_BYTES_MAX, PAYLOAD_FRAME_FORMAT, SEGMENT_HEADER_BYTES } from './format.js';
import { isBoundTo, payloadIsBoundTo } from './frame-binding.js';
import type { PayloadRef } from './payload-ref.js';
import { mapSealed } from './reader.js';
import type { SegmentState } from './segment.js';

/** One payload as `scan` yields it. */
export interface ScannedPayload {
  readonly ref: PayloadRef;
  /** A view into the sealed segment's mapping, or a copy for the active segment. */
  readonly payload: Uint8Array;
}

/** Segments in append order: by order, then number. */
export function inAppendOrder(segments: Iterable<SegmentState>): SegmentState[] {
  return [...segments].sort((left, right) => left.order - right.order || left.segment - right.segment);
}

/**
 * Every payload of `state` up to its valid end, verified and bound to its place. A frame
 * that does not verify throws KEEL_CORRUPT with its file and offset: a sealed segment is
 * whole by construction (its end bound at open), and the active one was recovered at
 * open, so damage is never a tail.
 */
export function* scanSegment(io: Io, state: SegmentState): Generator<ScannedPayload> {
  const end = state.end;
  if (state.sealed && end <= MAPPED_SEGMENT_BYTES_MAX) {
    const bytes = (state.view ?? mapSealed(io, state)).bytes.subarray(0, end);
    for (let offset = SEGMENT_HEADER_BYTES; offset < end; ) {
      const check = checkFrameAt(bytes, offset, PAYLOAD_FRAME_FORMAT);
      if (!check.ok) throw damaged(state, offset, check.state);
      if (check.payloadLength < FRAME_BINDING_BYTES || !isBoundTo(bytes, offset, state.segment, offset)) throw damaged(state, offset, MISPLACED);
      const payloadAt = offset + FRAME_HEADER_BYTES + FRAME_BINDING_BYTES;
      yield { ref: { segment: state.segment, offset, length: check.payloadLength - FRAME_BINDING_BYTES }, payload: bytes.subarray(payloadAt, offset + FRAME_HEADER_BYTES + check.payloadLength) };
      offset += check.frameBytes;
    }
    return;
  }
  const file = state.file ?? (state.file = io.open(state.path));
  const scanner = new FrameScanner(file, PAYLOAD_FRAME_FORMAT, { from: SEGMENT_HEADER_BYTES, to: end });
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    if (!payloadIsBoundTo(frame.payload, state.segment, frame.offset)) throw damaged(state, frame.offset, MISPLACED);
    const payload = frame.payload.slice(FRAME_BINDING_BYTES);
    yield { ref: { segment: state.segment, offset: frame.offset, length: payload.length }, payload };
  }
  if (scanner.tailState !== 'clean-end') throw damaged(state, scanner.validBytes, scanner.tailState ?? 'clean-end');
}

/** Why a frame whose checksum verifies is still refused. */
export const MISPLACED = 'a frame bound to another segment or offset';

/**
 * Reads segment `segment` whole (not mapped: open should not map what it only checks),
 * up to `to` (default: its size), and returns the offset of the first byte that is not
 * a whole, verified frame bound to its place, or null.
 */
export function findDamage(io: Io, path: string, segment: number, to?: number): { offset: number; state: string } | null {
  const file = io.open(path);
  try {
    const scanner = new FrameScanner(file, PAYLOAD_FRAME_FORMAT, { from: SEGMENT_HEADER_BYTES, ...(to === undefined ? {} : { to }) });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
      if (!payloadIsBoundTo(frame.payload, segment, frame.offset)) return { offset: frame.offset, state: MISPLACED };
    }
    return scanner.tailState === 'clean-end' ? null : { offset: scanner.validBytes, state: scanner.tailState ?? 'unknown' };
  } finally {
    file.closeSync();
  }
}

function damaged(state: SegmentState, offset: number, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${state.path} is damaged at offset ${offset} (${what})`, { path: state.path, offset });
}
