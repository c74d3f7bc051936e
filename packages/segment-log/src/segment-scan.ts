import { FrameScanner, KeelError, type TailState } from '@keel/core';
import { BATCH_FORMAT, BATCH_HEADER_BYTES } from './format.js';
import { emptyBatchHeader, emptyLayout, measureRecordAt, readBatchHeader } from './record-codec.js';
import type { Segment } from './segment.js';

/** Read size for scans that serve reads: enough for an index interval, small enough to allocate per call. */
export const READ_CHUNK_BYTES_DEFAULT = 64 * 1024;

export interface ScannedRecord {
  offset: number;
  timestamp: number;
  /** File position of the record's batch frame, and just past it. */
  position: number;
  end: number;
}

export interface ScanResult {
  /** Position just past the last whole record visited. */
  end: number;
  tailState: TailState;
  /** Set when a checksum-valid frame did not carry the offset its place says, or is malformed. */
  misnumberedAt: number | null;
}

const header = emptyBatchHeader();
const layout = emptyLayout();
/** One record handed to every visit (scans are synchronous): a visit reads it, never keeps it. */
const visited: ScannedRecord = { offset: 0, timestamp: 0, position: 0, end: 0 };

/**
 * Walks the records of `segment`'s batch frames from `position` (where a frame starting
 * at `firstOffset` must start) up to `to`, checking that offsets run on without a gap and
 * that every record is well formed. `visit` returns false to stop early; the record it is
 * given is reused for the next one.
 */
export function scanRecords(
  segment: Segment,
  position: number,
  firstOffset: number,
  to: number,
  visit: (record: ScannedRecord) => boolean | void,
  chunkBytes = READ_CHUNK_BYTES_DEFAULT,
): ScanResult {
  const scanner = new FrameScanner(segment.log, BATCH_FORMAT, { from: position, to, chunkBytes });
  let expected = firstOffset;
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    visited.position = frame.offset;
    visited.end = frame.end;
    const records = forEachRecord(frame.payload, expected, (offset, timestamp) => {
      visited.offset = offset;
      visited.timestamp = timestamp;
      return visit(visited);
    });
    if (records < 0) return { end: frame.offset, tailState: 'checksum-mismatch', misnumberedAt: frame.offset };
    if (records === STOPPED) return { end: frame.end, tailState: 'clean-end', misnumberedAt: null };
    expected += records;
  }
  return { end: scanner.validBytes, tailState: scanner.tailState ?? 'clean-end', misnumberedAt: null };
}

/** What `forEachRecord` returns when its visit stopped it. */
const STOPPED = -2;

/** The timestamps of the batch being visited: measured first, so no visit sees a record of a batch that turns out malformed. */
let timestamps = new Float64Array(256);

/**
 * Measures every record of a checksum-valid batch payload that must start at offset
 * `expected`, then hands each one's offset and timestamp to `visit` (false stops it: then
 * STOPPED is returned). Returns the batch's record count, or -1, before any visit, when
 * the batch does not start at `expected` or any part of it is malformed.
 */
export function forEachRecord(payload: Uint8Array, expected: number, visit: (offset: number, timestamp: number) => boolean | void): number {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (!readBatchHeader(view, 0, payload.length, header) || header.baseOffset !== expected) return -1;
  const { count, baseTimestamp } = header;
  if (timestamps.length < count) timestamps = new Float64Array(Math.max(count, timestamps.length * 2));
  let position = BATCH_HEADER_BYTES;
  for (let record = 0; record < count; record++) {
    position = measureRecordAt(payload, position, payload.length, baseTimestamp, layout);
    if (position < 0) return -1;
    timestamps[record] = layout.timestamp;
  }
  if (position !== payload.length) return -1;
  for (let record = 0; record < count; record++) if (visit(expected + record, timestamps[record] as number) === false) return STOPPED;
  return count;
}

export function corruptAt(segment: Segment, offset: number, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `segment ${segment.paths.log} is corrupt at byte ${offset}: ${what}`, { path: segment.paths.log, offset });
}
