// Sizes of the id records of ./id-records.ts in batch frames, so that crash tests around a
// roll can size segmentBytes to roll after exactly the record they mean to.
import { BATCH_OVERHEAD_BYTES } from '../../src/format.js';

/**
 * An 8-byte id record in a batch frame: timestamp delta (the tests' clock stands still, so
 * 0), key length (no key), value length and header count take one byte each.
 */
export const ID_RECORD_BYTES = 1 + 1 + 1 + 8 + 1;

/** The bytes of one batch frame holding `records` id records (one append's, within BATCH_FRAME_BYTES_TARGET). */
export function idFrameBytes(records: number): number {
  return BATCH_OVERHEAD_BYTES + records * ID_RECORD_BYTES;
}
