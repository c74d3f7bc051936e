import { checkFrameAt, encodeFrame, type Io } from '@keel/core';
import { HEADER_BYTES, HEADER_FORMAT, checkHeaderPayload, headerPayload, segmentPaths } from './format.js';
import { openIndexFiles, sealedIndexFrames } from './index-files.js';
import type { SealedFileCache } from './file-cache.js';
import { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

/** The header frame a segment with this base offset starts with. */
export function headerFrame(baseOffset: number): Uint8Array {
  return encodeFrame(headerPayload(baseOffset), HEADER_FORMAT);
}

/**
 * Creates a segment's three files. The header is made durable, and so is the directory
 * entry, before any record goes in: a segment file that exists after a crash always
 * starts with a whole header or is empty.
 */
export function createSegment(io: Io, dir: string, baseOffset: number, files: SealedFileCache): Segment {
  const paths = segmentPaths(dir, baseOffset);
  const log = io.open(paths.log, { createNew: true });
  const segment = new Segment(baseOffset, paths, () => io.open(paths.log), files, log);
  try {
    log.writeSync(headerFrame(baseOffset), 0);
    log.datasyncSync();
    openIndexFiles(io, segment, true);
    io.syncDirSync(dir);
  } catch (error) {
    segment.closeFiles();
    throw error;
  }
  return segment;
}

/**
 * Seals the active segment: log first, then its index files, rewritten as one
 * checksummed frame each (their entries now point at durable bytes). Rolls are rare, so this runs synchronously inside the
 * append that rolls; it runs in every durability mode because sealed segments must be
 * whole for open's cheap check.
 */
export function sealSegment(segment: Segment): void {
  segment.log.datasyncSync();
  segment.durableBytes = segment.size;
  segment.addSealTimeEntry();
  const files = segment.indexFiles;
  if (files) {
    const frames = sealedIndexFrames(segment);
    for (const [file, frame] of [
      [files.offset, frames.offset],
      [files.time, frames.time],
    ] as const) {
      file.setLengthSync(0);
      file.writeSync(frame, 0);
      file.datasyncSync();
    }
  }
  segment.index.offsetWritten = segment.index.offsetRelative.length;
  segment.index.timeWritten = segment.index.timeRelative.length;
  segment.index.freeze();
  segment.closeIndexFiles();
  segment.sealed = true;
  // From now on its file is one of the sealed files the cache may close.
  void segment.log;
}

/** Refuses a segment whose header is missing, damaged, of another version or for another base offset. */
export function checkHeader(segment: Segment): void {
  const window = new Uint8Array(Math.min(HEADER_BYTES, segment.log.sizeSync()));
  segment.log.readSync(window, 0);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (!check.ok || check.frameBytes !== HEADER_BYTES) throw corruptAt(segment, 0, `no segment header (${check.ok ? 'wrong size' : check.state}); the file is not ours or is damaged, and was left untouched`);
  checkHeaderPayload(window.subarray(8, 8 + check.payloadLength), segment.baseOffset, segment.paths.log);
}

