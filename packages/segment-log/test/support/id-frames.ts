// The id records of ./id-records.ts in batch frames: their sizes, so that crash tests
// around a roll can size segmentBytes to roll after exactly the record they mean to, and
// where one lies in a segment, for tests that damage it.
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES } from '@keel/core';
import { BATCH_HEADER_BYTES, BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../../src/format.js';

/**
 * An 8-byte id record in a batch frame: timestamp delta (the tests' clock stands still, so
 * 0), key length (no key), value length and header count take one byte each.
 */
export const ID_RECORD_BYTES = 1 + 1 + 1 + 8 + 1;

/** The bytes of one batch frame holding `records` id records (one append's, within BATCH_FRAME_BYTES_TARGET). */
export function idFrameBytes(records: number): number {
  return BATCH_OVERHEAD_BYTES + records * ID_RECORD_BYTES;
}

/**
 * Where the id record with offset `offset` starts in a `.log`'s bytes, found by walking its
 * batch frames from the header on (reading each frame's length, base offset and record
 * count): the frame holding it, then the id records before it in that frame.
 */
export function idRecordAt(log: Uint8Array, offset: number): number {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  for (let frame = HEADER_BYTES; frame + FRAME_HEADER_BYTES + BATCH_HEADER_BYTES <= log.length; ) {
    const base = view.getUint32(frame + FRAME_HEADER_BYTES, true);
    const count = view.getUint32(frame + FRAME_HEADER_BYTES + 8, true);
    if (offset >= base && offset < base + count) return frame + FRAME_HEADER_BYTES + BATCH_HEADER_BYTES + (offset - base) * ID_RECORD_BYTES;
    frame += FRAME_OVERHEAD_BYTES + view.getUint32(frame + 4, true);
  }
  throw new Error(`no frame holds offset ${offset}`);
}
