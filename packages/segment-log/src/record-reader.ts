import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, crc32c } from '@keel/core';
import { framesHaveValidCrcs } from './crc-combine.js';
import { RECORD_FORMAT, RECORD_FRAME_BYTES_MAX, RECORD_MAGIC, getUint64, viewOf } from './format.js';
import type { LogRecord } from './record.js';
import { decodeRecordAt } from './record-codec.js';
import type { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

export interface CollectLimits {
  maxBytes: number;
  maxRecords: number;
}

/** What a read has gathered so far, across segments. */
export interface Collected {
  records: LogRecord[];
  bytes: number;
  /** Set once a limit is reached. */
  full: boolean;
}

interface Chunk {
  bytes: Uint8Array;
  view: DataView;
  /** File position of bytes[0]. */
  position: number;
  filled: number;
}

function readChunk(segment: Segment, position: number, length: number): Chunk {
  // A plain Uint8Array over unzeroed memory, never reused: records may keep views of it.
  const unzeroed = Buffer.allocUnsafeSlow(length);
  const bytes = new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, unzeroed.length);
  const filled = segment.log.readSync(bytes, position);
  return { bytes, view: viewOf(bytes), position, filled };
}

/**
 * The ends of the whole frames at the start of `chunk` that the read will use: headers
 * checked (magic, bounded length) but not yet CRCs. Stops where a frame runs past the
 * chunk, or once the limits are met (`firstOffset` numbers the first frame; `limited`
 * says the limits stopped it).
 */
function frameEnds(segment: Segment, chunk: Chunk, firstOffset: number, from: number, limits: CollectLimits, collected: Collected): { ends: number[]; limited: boolean } {
  const ends: number[] = [];
  let at = 0;
  let taken = collected.records.length;
  let bytes = collected.bytes;
  while (at + FRAME_HEADER_BYTES <= chunk.filled) {
    if (chunk.view.getUint32(at, false) !== RECORD_MAGIC) throw corruptAt(segment, chunk.position + at, 'bad magic where a record frame should start');
    const payloadLength = chunk.view.getUint32(at + 4, true);
    if (payloadLength > RECORD_FORMAT.payloadBytesMax) throw corruptAt(segment, chunk.position + at, `frame length ${payloadLength} exceeds the maximum`);
    const end = at + payloadLength + FRAME_OVERHEAD_BYTES;
    if (end > chunk.filled) break;
    if (firstOffset + ends.length >= from) {
      if (taken > 0 && bytes + (end - at) > limits.maxBytes) return { ends, limited: true };
      taken++;
      bytes += end - at;
    }
    ends.push(end);
    at = end;
    if (taken >= limits.maxRecords) return { ends, limited: true };
  }
  return { ends, limited: false };
}

/** Checks frames one by one to name the first damaged one (after a run failed its combined CRC). */
function firstBadFrame(segment: Segment, chunk: Chunk, ends: readonly number[]): Error {
  let start = 0;
  for (const end of ends) {
    const crcAt = end - 4;
    if (crc32c(chunk.bytes.subarray(start, crcAt)) !== chunk.view.getUint32(crcAt, true)) return corruptAt(segment, chunk.position + start, 'checksum mismatch');
    start = end;
  }
  return corruptAt(segment, chunk.position, 'checksum mismatch in a run of frames');
}

/**
 * The read path. Reads the segment in chunks into fresh buffers that are never reused,
 * checks the frames (magic, bounded length, CRC-32C — one native call per run, see
 * crc-combine.ts — and offset), and appends records whose byte arrays are views of those
 * buffers: one read and no per-record copy, yet every record stays valid after later
 * appends, rolls and retention because nothing else holds the buffers. Records before
 * `from` (between the index entry and the target) are checked and skipped.
 */
export function collectRecords(
  segment: Segment,
  position: number,
  firstOffset: number,
  from: number,
  limits: CollectLimits,
  chunkBytes: number,
  collected: Collected,
): void {
  const to = segment.size;
  let expected = firstOffset;
  while (position < to && !collected.full) {
    const chunk = readChunk(segment, position, Math.min(chunkBytes, to - position));
    const { ends, limited } = frameEnds(segment, chunk, expected, from, limits, collected);
    if (ends.length === 0 && limited) {
      collected.full = true;
      break;
    }
    if (ends.length === 0) {
      chunkBytes = grownChunk(segment, chunk, chunkBytes, to);
      continue;
    }
    if (!framesHaveValidCrcs(chunk.bytes, 0, ends)) throw firstBadFrame(segment, chunk, ends);
    let start = 0;
    for (const end of ends) {
      if (getUint64(chunk.view, start + FRAME_HEADER_BYTES) !== expected) throw corruptAt(segment, chunk.position + start, `record does not carry offset ${expected}`);
      if (expected >= from) take(segment, chunk, start, end, limits, collected);
      expected++;
      start = end;
    }
    position += start;
    if (limited) collected.full = true;
  }
  if (!collected.full && expected !== segment.nextOffset) throw corruptAt(segment, position, `expected the record with offset ${expected}`);
}

function take(segment: Segment, chunk: Chunk, start: number, end: number, limits: CollectLimits, collected: Collected): void {
  if (collected.full) return;
  if (collected.records.length > 0 && collected.bytes + (end - start) > limits.maxBytes) {
    collected.full = true;
    return;
  }
  collected.records.push(decodeRecordAt(chunk.bytes, chunk.view, start + FRAME_HEADER_BYTES, end - 4, { path: segment.paths.log, offset: chunk.position + start }));
  collected.bytes += end - start;
  if (collected.records.length >= limits.maxRecords) collected.full = true;
}

/** Not even one frame fitted: read again with room for the announced (bounded) frame, or report the damage. */
function grownChunk(segment: Segment, chunk: Chunk, chunkBytes: number, to: number): number {
  const wanted = Math.min(chunkBytes, to - chunk.position);
  const announced = chunk.filled >= FRAME_HEADER_BYTES ? chunk.view.getUint32(4, true) + FRAME_OVERHEAD_BYTES : Infinity;
  if (chunk.filled < wanted || announced > RECORD_FRAME_BYTES_MAX || announced <= chunkBytes || chunk.position + announced > to) {
    throw corruptAt(segment, chunk.position, 'frame runs past the end of the segment');
  }
  return announced;
}
