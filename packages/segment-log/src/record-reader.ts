import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, allocReadBuffer, framesEndsCapacity, validateFrameRun } from '@keel/core';
import { BATCH_FORMAT, BATCH_FRAME_BYTES_MAX, viewOf } from './format.js';
import type { FrameProgress, RecordBatch } from './record-batch.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
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

/** The frames of a chunk that passed one `validateFrameRun`: frame `i` ends at `ends[i]`, the first starts at 0. */
export interface CheckedFrames {
  chunk: Chunk;
  ends: Uint32Array;
  count: number;
}

export interface Chunk {
  bytes: Uint8Array;
  /**
   * `bytes.buffer` and `bytes.byteOffset`, read once: views are cut from these per record,
   * and the `buffer` getter costs more than the view it feeds (about 55 ns a call).
   */
  buffer: ArrayBuffer;
  byteOffset: number;
  view: DataView;
  /** File position of bytes[0]. */
  position: number;
  filled: number;
}

/**
 * Reads into memory of the chunk's own: fresh, or with `pool` (a `readBatch()`) a buffer a
 * released batch gave back, placed for the read's position when the read is large. Either way nothing else uses it until the batch it ends up in
 * is released, if ever: records and views may be kept from it.
 */
function readChunk(segment: Segment, position: number, length: number, pool: ReadBufferPool | null): Chunk {
  const bytes = pool === null ? allocReadBuffer(length, position) : pool.take(length, position);
  const filled = segment.log.readSync(bytes, position);
  return chunkOf(bytes, position, filled);
}

/** The chunk over `bytes`, which start at file position `position` and hold `filled` bytes read. */
export function chunkOf(bytes: Uint8Array, position: number, filled: number): Chunk {
  return { bytes, buffer: bytes.buffer as ArrayBuffer, byteOffset: bytes.byteOffset, view: viewOf(bytes), position, filled };
}

/**
 * The read path. Reads the segment in chunks into buffers of their own (see readChunk),
 * checks every frame of a chunk in one native call (magic, bounded length, CRC-32C),
 * then each batch's offsets and each record's layout, and adds the records to the batch, whose views
 * are cut from those buffers: one read and no per-record copy, yet every record stays
 * valid after later appends, rolls and retention because nothing else holds the
 * buffers. Records before `from` (between the index entry and the target) are checked
 * and skipped.
 */
export function collectRecords(
  segment: Segment,
  position: number,
  firstOffset: number,
  from: number,
  limits: CollectLimits,
  chunks: ChunkSizes,
  collected: RecordBatch,
  pool: ReadBufferPool | null,
): void {
  const to = segment.size;
  const progress: FrameProgress = { frames: 0, offset: firstOffset };
  let expected = firstOffset;
  let chunkBytes = chunks.first;
  while (position < to && !collected.full) {
    const chunk = readChunk(segment, position, Math.min(chunkBytes, to - position), pool);
    const ends = endsFor(chunk.filled);
    const run = validateFrameRun(chunk.bytes.subarray(0, chunk.filled), BATCH_FORMAT, ends);
    if (run.count === 0) {
      if (run.stop !== 'partial') throw corruptAt(segment, chunk.position, run.stop);
      chunkBytes = grownChunk(segment, chunk, chunkBytes, to);
      continue;
    }
    collected.takeFrames(segment, { chunk, ends, count: run.count }, expected, from, limits, progress);
    expected = progress.offset;
    position += progress.frames === 0 ? 0 : ends[progress.frames - 1]!;
    chunkBytes = Math.min(chunks.max, chunkBytes * 2);
  }
  if (!collected.full && expected !== segment.nextOffset) throw corruptAt(segment, position, `expected the record with offset ${expected}`);
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
  if (chunk.filled < wanted || announced > BATCH_FRAME_BYTES_MAX || announced <= chunkBytes || chunk.position + announced > to) {
    throw corruptAt(segment, chunk.position, 'frame runs past the end of the segment');
  }
  return announced;
}
