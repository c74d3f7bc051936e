import { FrameScanner, KeelError, type TailState } from '@keel/core';
import { RECORD_FORMAT } from './format.js';
import { readRecordMeta } from './record-codec.js';
import type { Segment } from './segment.js';

/** Read size for scans that serve reads: enough for an index interval, small enough to allocate per call. */
export const READ_CHUNK_BYTES_DEFAULT = 64 * 1024;

export interface ScannedRecord {
  offset: number;
  timestamp: number;
  /** File position of the frame, and just past it. */
  position: number;
  end: number;
  /** View into the scanner's buffer, valid only during the visit. */
  payload: Uint8Array;
}

export interface ScanResult {
  /** Position just past the last whole record visited. */
  end: number;
  tailState: TailState;
  /** Set when a checksum-valid frame did not carry the offset its place says. */
  misnumberedAt: number | null;
}

/**
 * Walks record frames of `segment` from `position` (where a record with `firstOffset`
 * must start) up to `to`, checking that offsets run on without a gap. `visit` returns
 * false to stop early.
 */
export function scanRecords(
  segment: Segment,
  position: number,
  firstOffset: number,
  to: number,
  visit: (record: ScannedRecord) => boolean | void,
  chunkBytes = READ_CHUNK_BYTES_DEFAULT,
): ScanResult {
  const scanner = new FrameScanner(segment.log, RECORD_FORMAT, { from: position, to, chunkBytes });
  let expected = firstOffset;
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    const meta = readRecordMeta(frame.payload);
    if (meta === null || meta.offset !== expected) return { end: frame.offset, tailState: 'checksum-mismatch', misnumberedAt: frame.offset };
    expected++;
    const keepGoing = visit({ offset: meta.offset, timestamp: meta.timestamp, position: frame.offset, end: frame.end, payload: frame.payload });
    if (keepGoing === false) return { end: frame.end, tailState: 'clean-end', misnumberedAt: null };
  }
  return { end: scanner.validBytes, tailState: scanner.tailState ?? 'clean-end', misnumberedAt: null };
}

export function corruptAt(segment: Segment, offset: number, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `segment ${segment.paths.log} is corrupt at byte ${offset}: ${what}`, { path: segment.paths.log, offset });
}
