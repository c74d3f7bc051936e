import { FrameScanner, KeelError, type FrameSource, type TailState } from '@keel/core';
import { JOURNAL_FRAME_FORMAT } from './format.js';
import { PayloadArena } from './payload-arena.js';

/** One record: its payload and its LSN (the offset just past its frame). */
export interface JournalRecord {
  lsn: number;
  /** A copy: it stays valid whatever the journal does next (see PayloadArena). */
  payload: Uint8Array;
}

/** Where a scan ended, reported through `onEnd` when it stops. */
export interface ScanEnd {
  tailState: TailState;
  position: number;
}

/**
 * Whole, checksum-valid records from `from` up to `to` through one scanner buffer; each
 * payload is copied out (into a shared arena) because the scanner reuses its buffer.
 */
export function* scanRecords(source: FrameSource, from: number, to: number, onEnd: (end: ScanEnd) => void): Generator<JournalRecord, void, undefined> {
  const scanner = new FrameScanner(source, JOURNAL_FRAME_FORMAT, { from, to });
  const arena = new PayloadArena();
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    yield { lsn: frame.end, payload: arena.copy(frame.payload) };
  }
  // Only a scan that ran to its stop says where the records end: a caller that breaks out
  // of the loop early has not found damage.
  onEnd({ tailState: scanner.tailState ?? 'clean-end', position: scanner.validBytes });
}

/**
 * Checks every frame from `from` up to `to` (magic, bounded length, CRC-32C) one native
 * call per chunk, handing none out and copying nothing: what reading a whole journal
 * back to verify it needs, at the scanner's pace rather than an object per record.
 */
export function checkRecords(source: FrameSource, from: number, to: number): ScanEnd {
  const scanner = new FrameScanner(source, JOURNAL_FRAME_FORMAT, { from, to });
  scanner.skipToEnd();
  return { tailState: scanner.tailState ?? 'clean-end', position: scanner.validBytes };
}

/**
 * A live journal's bytes below its next LSN were all recovered or written by it, so a
 * scan that stops early means either a `from` that is not a record boundary or damage.
 */
export function assertScanReachedEnd(end: ScanEnd, from: number, to: number, path: string): void {
  if (end.tailState === 'clean-end' && end.position >= to) return;
  if (end.position === from && from > 0) {
    throw new KeelError('KEEL_BAD_ARGUMENT', `from ${from} is not the LSN of a record in ${path}`, { path, offset: from });
  }
  throw new KeelError('KEEL_CORRUPT', `${path} is damaged at offset ${end.position} (${end.tailState}) below its end ${to}`, { path, offset: end.position });
}
