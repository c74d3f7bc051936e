import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, framesEndsCapacity, validateFrameRun } from '@keel/core';
import { RECORD_FORMAT, RECORD_FRAME_BYTES_MAX, getUint64, viewOf } from './format.js';
import type { LogRecord } from './record.js';
import { decodeRecordAt } from './record-codec.js';
import type { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

/** Chunk sizes of a read: the first, and the most any later one grows to (a larger record still grows it). */
export interface ChunkSizes {
  first: number;
  max: number;
}

export interface CollectLimits {
  maxBytes: number;
  maxRecords: number;
}

/** What a read gathers records into, across segments: record objects (`read`) or a batch of views (`readBatch`). */
export interface RecordCollector {
  /** Records taken so far. */
  readonly count: number;
  /** Frame bytes taken so far. */
  bytes: number;
  /** Set once a limit is reached. */
  full: boolean;
  /** Takes the checksum-valid record frame at [start, end) of `chunk` (a buffer never reused while the collector holds it). */
  add(segment: Segment, chunk: Chunk, start: number, end: number): void;
}

/** `read`'s collector: a record object per record, its byte arrays views of the chunk. */
export class RecordObjects implements RecordCollector {
  readonly records: LogRecord[] = [];
  bytes = 0;
  full = false;

  get count(): number {
    return this.records.length;
  }

  add(segment: Segment, chunk: Chunk, start: number, end: number): void {
    this.records.push(decodeRecordAt(chunk.bytes, chunk.view, start + FRAME_HEADER_BYTES, end - FRAME_TRAILER_BYTES, segment.paths.log, chunk.position + start));
  }
}

export interface Chunk {
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
 * The read path. Reads the segment in chunks into fresh buffers that are never reused,
 * checks every frame of a chunk in one native call (magic, bounded length, CRC-32C),
 * then each record's offset, and appends records whose byte arrays are views of those
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
  chunks: ChunkSizes,
  collected: RecordCollector,
): void {
  const to = segment.size;
  let expected = firstOffset;
  let chunkBytes = chunks.first;
  while (position < to && !collected.full) {
    const chunk = readChunk(segment, position, Math.min(chunkBytes, to - position));
    const ends = endsFor(chunk.filled);
    const run = validateFrameRun(chunk.bytes.subarray(0, chunk.filled), RECORD_FORMAT, ends);
    if (run.count === 0) {
      if (run.stop !== 'partial') throw corruptAt(segment, chunk.position, run.stop);
      chunkBytes = grownChunk(segment, chunk, chunkBytes, to);
      continue;
    }
    let start = 0;
    for (let index = 0; index < run.count && !collected.full; index++) {
      const end = ends[index]!;
      if (getUint64(chunk.view, start + FRAME_HEADER_BYTES) !== expected) throw corruptAt(segment, chunk.position + start, `record does not carry offset ${expected}`);
      if (expected >= from) take(segment, chunk, start, end, limits, collected);
      expected++;
      start = end;
    }
    position += start;
    chunkBytes = Math.min(chunks.max, chunkBytes * 2);
  }
  if (!collected.full && expected !== segment.nextOffset) throw corruptAt(segment, position, `expected the record with offset ${expected}`);
}

function take(segment: Segment, chunk: Chunk, start: number, end: number, limits: CollectLimits, collected: RecordCollector): void {
  if (collected.full) return;
  if (collected.count > 0 && collected.bytes + (end - start) > limits.maxBytes) {
    collected.full = true;
    return;
  }
  collected.add(segment, chunk, start, end);
  collected.bytes += end - start;
  if (collected.count >= limits.maxRecords) collected.full = true;
}

/** Frame ends of the chunk being checked: shared by every read (reads are synchronous), grown as chunks grow. */
let sharedEnds = new Uint32Array(0);

function endsFor(chunkBytes: number): Uint32Array {
  const needed = framesEndsCapacity(chunkBytes);
  if (sharedEnds.length < needed) sharedEnds = new Uint32Array(needed);
  return sharedEnds;
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
