import { checkFrameAt, encodeFrame, type Io, type IoFile } from '@keel/core';
import { HEADER_BYTES, HEADER_FORMAT, checkHeaderPayload, headerPayload, olderFormatError, olderHeaderVersion, segmentPaths } from './format.js';
import type { SealedFileCache } from './file-cache.js';
import { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

/** The header frame a segment with this base offset, of the store with this id, starts with (`flags`: see HEADER_FLAG_SEALED_DURABLE). */
export function headerFrame(baseOffset: number, storeId: Uint8Array, flags = 0): Uint8Array {
  return encodeFrame(headerPayload(baseOffset, storeId, flags), HEADER_FORMAT);
}

/**
 * Creates a segment's `.log` and writes the header, without syncing anything: the header,
 * the file's directory entry and the sealed segment before it become durable in the next
 * flush, before it claims any offset here durable (see `flushLog`), and that flush creates
 * the index files. Until then nothing in this segment was acknowledged, so open may cut it
 * away after a crash. With `prepared`, the segment starts in a file prepared ahead (see
 * prepared-segment.ts), whose directory entry is durable already, its header over that
 * file's frame; it keeps the prepared name until background work renames it (see
 * roll-settle.ts): no file is created here and no directory needs a sync. With
 * `headerWritten: false` the caller writes the header itself, with the segment's first
 * records (one write for both).
 */
export function createSegment(io: Io, dir: string, baseOffset: number, files: SealedFileCache, storeId: Uint8Array, from: { prepared?: IoFile | null; headerWritten?: boolean; headerFlags?: number } = {}): Segment {
  const paths = segmentPaths(dir, baseOffset);
  const prepared = from.prepared ?? null;
  const segment = new Segment(baseOffset, paths, () => io.open(paths.log), files, prepared ?? io.open(paths.log, { createNew: true }));
  segment.preparedPath = prepared?.path ?? null;
  segment.storeId = storeId;
  segment.durableBytes = 0;
  segment.entryDurable = prepared !== null;
  segment.headerFlags = from.headerFlags ?? 0;
  if (from.headerWritten === false) return segment;
  try {
    segment.log.writeSync(headerFrame(baseOffset, storeId, segment.headerFlags), 0);
  } catch (error) {
    segment.closeFiles();
    throw error;
  }
  return segment;
}

/**
 * Seals the active segment in memory: it takes no more records, its index is complete.
 * Nothing is written, synced or closed here (a roll runs inside an append): the next flush
 * makes the log and the next segment's directory entry durable, then writes the index
 * files (still open) as one checksummed frame each, syncs and closes them, and packs the
 * index into typed arrays.
 */
export function sealSegment(segment: Segment): void {
  segment.addSealTimeEntry();
  // Every entry goes into the sealed frames: none is appended to the open files any more.
  segment.index.offsetWritten = segment.index.offsetRelative.length;
  segment.index.timeWritten = segment.index.timeRelative.length;
  segment.sealed = true;
}

/** Refuses a segment whose header is missing, damaged, of another version, for another base offset or of another store. */
export function checkHeader(segment: Segment): void {
  const window = new Uint8Array(Math.min(HEADER_BYTES, segment.log.sizeSync()));
  segment.log.readSync(window, 0);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (check.ok && check.frameBytes !== HEADER_BYTES) refuseOlderFormat(segment, window.subarray(8, 8 + check.payloadLength));
  if (!check.ok || check.frameBytes !== HEADER_BYTES) throw corruptAt(segment, 0, `no segment header (${check.ok ? 'wrong size' : check.state}); the file is not ours or is damaged, and was left untouched`);
  checkHeaderPayload(window.subarray(8, 8 + check.payloadLength), segment.baseOffset, segment.paths.log, segment.storeId);
}

/** A whole header frame of another size whose version is older than ours: say so rather than "not ours". */
export function refuseOlderFormat(segment: Segment, payload: Uint8Array): void {
  const version = olderHeaderVersion(payload);
  if (version !== null) throw olderFormatError(segment.paths.log, version);
}

