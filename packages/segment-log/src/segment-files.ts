import { encodeFrame, type Io } from '@keel/core';
import { HEADER_FORMAT, headerPayload, segmentPaths } from './format.js';
import { openIndexFiles, writeDurableEntries } from './index-files.js';
import { Segment } from './segment.js';

/** The header frame a segment with this base offset starts with. */
export function headerFrame(baseOffset: number): Uint8Array {
  return encodeFrame(headerPayload(baseOffset), HEADER_FORMAT);
}

/**
 * Creates a segment's three files. The header is made durable, and so is the directory
 * entry, before any record goes in: a segment file that exists after a crash always
 * starts with a whole header or is empty.
 */
export function createSegment(io: Io, dir: string, baseOffset: number): Segment {
  const paths = segmentPaths(dir, baseOffset);
  const log = io.open(paths.log, { createNew: true });
  const segment = new Segment(baseOffset, paths, log);
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
 * Seals the active segment: log first, then its index entries (now pointing at durable
 * bytes), then the index files. Rolls are rare, so this runs synchronously inside the
 * append that rolls; it runs in every durability mode because sealed segments must be
 * whole for open's cheap check.
 */
export function sealSegment(segment: Segment): void {
  segment.log.datasyncSync();
  segment.durableBytes = segment.size;
  segment.addSealTimeEntry();
  writeDurableEntries(segment);
  const files = segment.indexFiles;
  if (files) {
    files.offset.datasyncSync();
    files.time.datasyncSync();
  }
  segment.closeIndexFiles();
  segment.sealed = true;
}
