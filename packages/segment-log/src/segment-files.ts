import { checkFrameAt, encodeFrame, type Io } from '@keel/core';
import { HEADER_BYTES, HEADER_FORMAT, checkHeaderPayload, headerPayload, olderFormatError, olderHeaderVersion, segmentPaths } from './format.js';
import { openIndexFiles } from './index-files.js';
import type { SealedFileCache } from './file-cache.js';
import { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

/** The header frame a segment with this base offset, of the store with this id, starts with. */
export function headerFrame(baseOffset: number, storeId: Uint8Array): Uint8Array {
  return encodeFrame(headerPayload(baseOffset, storeId), HEADER_FORMAT);
}

/**
 * Creates a segment's three files and writes the header, without syncing anything: the
 * header, the file's directory entry and the sealed segment before it become durable in
 * the next flush, before it claims any offset here durable (see `flushLog`). Until then
 * nothing in this segment was acknowledged, so open may cut it away after a crash.
 */
export function createSegment(io: Io, dir: string, baseOffset: number, files: SealedFileCache, storeId: Uint8Array): Segment {
  const paths = segmentPaths(dir, baseOffset);
  const log = io.open(paths.log, { createNew: true });
  const segment = new Segment(baseOffset, paths, () => io.open(paths.log), files, log);
  segment.storeId = storeId;
  segment.durableBytes = 0;
  segment.entryDurable = false;
  try {
    log.writeSync(headerFrame(baseOffset, storeId), 0);
    openIndexFiles(io, segment, true);
  } catch (error) {
    segment.closeFiles();
    throw error;
  }
  return segment;
}

/**
 * Seals the active segment in memory: it takes no more records, its index is complete.
 * Nothing is written or synced here (a roll runs inside an append): the next flush makes
 * the log and the next segment's directory entry durable, then writes the index files as
 * one checksummed frame each and syncs them.
 */
export function sealSegment(segment: Segment): void {
  segment.addSealTimeEntry();
  segment.index.freeze();
  segment.index.offsetWritten = segment.index.offsetRelative.length;
  segment.index.timeWritten = segment.index.timeRelative.length;
  segment.closeIndexFiles();
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

