import { DIRECT_IO_ALIGNMENT_BYTES, FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, FSYS_FRAME_FORMAT, POSITION_MAX, defineFrameFormat, type FrameFormat } from '@keel/core';

/**
 * The journal file is nothing but fsys 0.9 frames back to back from offset 0:
 * magic 0x46535901 (u32 BE), length (u32 LE), payload, CRC-32C (u32 LE) over
 * magic + length + payload. An LSN is the byte offset just past a frame.
 */
export const JOURNAL_FRAME_FORMAT: FrameFormat = FSYS_FRAME_FORMAT;

/** The largest payload one record may carry (2^28 − 1 bytes, as in fsys). */
export const RECORD_BYTES_MAX = FRAME_PAYLOAD_BYTES_MAX;

/** The largest LSN: JS numbers are exact integers only below 2^53. */
export const LSN_MAX = POSITION_MAX;

/** Appended frames are handed to the OS in one write once this many bytes are buffered. */
export const WRITE_BUFFER_BYTES_DEFAULT = 1 << 20;
export const WRITE_BUFFER_BYTES_MIN = 4096;
export const WRITE_BUFFER_BYTES_MAX = 256 << 20;

export { DIRECT_IO_ALIGNMENT_BYTES };

/**
 * The clean-shutdown record: a file beside the journal (`<path>.clean-shutdown`) holding
 * one frame, magic "KJCS", whose payload is version u16, reserved u16, the last frame's
 * CRC-32C u32, then the journal's end u64, the last frame's offset u64 and the record
 * count u64 (all little-endian). close writes it once everything is durable; the next
 * writable open removes it, durably, before anything can be appended. The journal file
 * itself is untouched by it (fsys 0.9 has no room for it).
 */
export const CLEAN_SHUTDOWN_SUFFIX = '.clean-shutdown';
export const CLEAN_SHUTDOWN_TEMPORARY_SUFFIX = `${CLEAN_SHUTDOWN_SUFFIX}.tmp`;
export const CLEAN_SHUTDOWN_MAGIC = 0x4b4a_4353;
export const CLEAN_SHUTDOWN_VERSION = 1;
export const CLEAN_SHUTDOWN_PAYLOAD_BYTES = 32;
export const CLEAN_SHUTDOWN_BYTES = CLEAN_SHUTDOWN_PAYLOAD_BYTES + FRAME_OVERHEAD_BYTES;
export const CLEAN_SHUTDOWN_FORMAT = defineFrameFormat(CLEAN_SHUTDOWN_MAGIC, CLEAN_SHUTDOWN_PAYLOAD_BYTES);

// The default threshold lies inside its bounds, and the bounds keep whole direct-IO blocks.
if (WRITE_BUFFER_BYTES_DEFAULT < WRITE_BUFFER_BYTES_MIN || WRITE_BUFFER_BYTES_DEFAULT > WRITE_BUFFER_BYTES_MAX) {
  throw new Error('WRITE_BUFFER_BYTES_DEFAULT must lie within its bounds');
}
// The largest frame must stay below LSN_MAX by a wide margin for the LSN check to be meaningful.
if (FRAME_OVERHEAD_BYTES + RECORD_BYTES_MAX >= LSN_MAX) throw new Error('RECORD_BYTES_MAX is inconsistent with LSN_MAX');
if (WRITE_BUFFER_BYTES_MIN % DIRECT_IO_ALIGNMENT_BYTES !== 0) throw new Error('WRITE_BUFFER_BYTES_MIN must be a multiple of the direct IO alignment');

export function alignDown(value: number, alignment: number): number {
  return value - (value % alignment);
}

export function alignUp(value: number, alignment: number): number {
  const remainder = value % alignment;
  return remainder === 0 ? value : value + alignment - remainder;
}
