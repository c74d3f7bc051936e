import { FRAME_HEADER_BYTES, KeelError, badArgument, frameBytes, type Io } from '@keel/core';
import { checkFrameAt } from '@keel/core';
import { PAYLOAD_FRAME_FORMAT } from './format.js';
import type { PayloadRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';

/**
 * Reads one payload and verifies it against its ref: the frame must start with our
 * magic, announce exactly `ref.length` bytes and pass its CRC-32C. Sealed segments are
 * served from one mapping of the whole file (zero-copy); the active segment with one
 * positional read of just this frame.
 */
export function readPayload(io: Io, state: SegmentState, ref: PayloadRef): Uint8Array {
  const bytes = frameBytes(ref.length);
  if (ref.offset + bytes > state.end) {
    throw badArgument(`ref ${ref.segment}:${ref.offset}+${ref.length} reaches past the valid end (${state.end}) of ${state.path}`);
  }
  if (state.sealed) {
    const view = state.view ?? mapSealed(io, state);
    return verifyFrame(view.subarray(ref.offset, ref.offset + bytes), ref, state.path);
  }
  const frame = new Uint8Array(bytes);
  const file = state.writer;
  if (file === null) throw new KeelError('KEEL_CLOSED', `${state.path} has no open handle`);
  const read = file.readSync(frame, ref.offset);
  if (read !== bytes) throw new KeelError('KEEL_CORRUPT', `${state.path} ends inside the frame at ${ref.offset}`, { path: state.path, offset: ref.offset });
  return verifyFrame(frame, ref, state.path);
}

/** Maps a sealed segment once; the mapping lives as long as any view of it does. */
function mapSealed(io: Io, state: SegmentState): Uint8Array {
  const file = io.open(state.path);
  try {
    state.view = file.mapSync(0, state.end);
  } finally {
    file.closeSync();
  }
  return state.view;
}

function verifyFrame(frame: Uint8Array, ref: PayloadRef, path: string): Uint8Array {
  const check = checkFrameAt(frame, 0, PAYLOAD_FRAME_FORMAT);
  const where = { path, offset: ref.offset };
  if (!check.ok) {
    // A header announcing more bytes than the ref shows up as truncated-payload here.
    throw new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} does not verify (${check.state})`, where);
  }
  if (check.payloadLength !== ref.length) {
    throw new KeelError('KEEL_CORRUPT', `payload at ${path}:${ref.offset} holds ${check.payloadLength} bytes, the ref says ${ref.length}`, where);
  }
  return frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + ref.length);
}
