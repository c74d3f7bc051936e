import { CHUNK_READ_BYTES_DEFAULT, FrameChunkReader, KeelError, throwIfAborted, type AsyncFrameSource, type FrameChunk } from '@keel/core';
import { BATCH_FORMAT } from './format.js';
import { RecordBatch, type FrameProgress } from './record-batch.js';
import { chunkOf } from './record-reader.js';
import { seek, segmentIndexFor } from './reader.js';
import type { Segment } from './segment.js';
import { corruptAt } from './segment-scan.js';

/** What a scan needs of the log while it runs: its segment list as it is now, and whether it closed. */
export interface ScanTarget {
  segments: readonly Segment[];
  isClosed(): boolean;
}

/**
 * Yields the records `[from, end)` as batches, a chunk of the log at a time: reads are
 * asynchronous and double-buffered (FrameChunkReader), each chunk's frames are checked
 * by one native call, then each record's offset and lengths. One RecordBatch is reused
 * for every chunk, so a batch and its views are valid only until the next step.
 */
export async function* scanBatches(target: ScanTarget, from: number, end: number, signal: AbortSignal | undefined): AsyncGenerator<RecordBatch, void, undefined> {
  const batch = new RecordBatch(null);
  let expected = from;
  while (expected < end) {
    throwIfAborted(signal);
    if (target.isClosed()) return;
    const segment = segmentHolding(target, expected);
    const start = seek(segment, expected);
    const reader = new FrameChunkReader(segmentSource(target, segment), BATCH_FORMAT, { from: start.position, to: segment.size, chunkBytes: CHUNK_READ_BYTES_DEFAULT });
    let offset = start.offset;
    const last = Math.min(end, segment.nextOffset);
    while (offset < last) {
      const chunk = await nextChunk(reader, target, segment);
      throwIfAborted(signal);
      if (target.isClosed()) return;
      if (chunk === null) throw corruptAt(segment, reader.validBytes, `expected the record with offset ${offset} (${reader.tailState ?? 'clean-end'})`);
      offset = collectChunk(batch, segment, chunk, offset, expected, last);
      if (batch.count > 0) {
        expected = offset;
        yield batch;
      }
    }
    expected = offset;
  }
}

const progress: FrameProgress = { frames: 0, offset: 0 };

/**
 * Fills `batch` with the chunk's records in `[from, last)`, checking each batch's offsets;
 * returns the offset after the last record it went through (`last` when it stopped there,
 * inside a frame: the scan ends at `last`).
 */
function collectChunk(batch: RecordBatch, segment: Segment, frames: FrameChunk, firstOffset: number, from: number, last: number): number {
  batch.reset();
  const chunk = chunkOf(frames.bytes, frames.position, frames.bytes.length);
  const limits = { maxBytes: Infinity, maxRecords: last - Math.max(from, firstOffset) };
  batch.takeFrames(segment, { chunk, ends: frames.ends, count: frames.count }, firstOffset, from, limits, progress);
  return progress.offset;
}

/** The segment holding `offset`; KEEL_NOT_FOUND once retention deleted it. */
function segmentHolding(target: ScanTarget, offset: number): Segment {
  const segments = target.segments;
  const segment = segments[segmentIndexFor(segments, offset)] as Segment;
  if (offset < segment.baseOffset) throw deleted(offset, segment.baseOffset);
  return segment;
}

/** A failed read of a segment that retention deleted meanwhile is KEEL_NOT_FOUND, as the stream's is. */
async function nextChunk(reader: FrameChunkReader, target: ScanTarget, segment: Segment): Promise<FrameChunk | null> {
  try {
    const chunk = await reader.next();
    if (!target.segments.includes(segment) && !target.isClosed()) throw deleted(segment.baseOffset, target.segments[0]?.baseOffset ?? 0);
    return chunk;
  } catch (error) {
    if (!target.segments.includes(segment) && !target.isClosed()) throw deleted(segment.baseOffset, target.segments[0]?.baseOffset ?? 0);
    throw error;
  }
}

/**
 * Reads through `segment.log` each time: a sealed segment's file may be closed by the file
 * cache between reads and is reopened on demand, but never once the log is closed.
 */
function segmentSource(target: ScanTarget, segment: Segment): AsyncFrameSource {
  return {
    read(into, position) {
      if (target.isClosed()) return Promise.reject(new KeelError('KEEL_CLOSED', 'segment log closed during a scan'));
      return segment.log.read(into, position);
    },
  };
}

function deleted(offset: number, start: number): KeelError {
  return new KeelError('KEEL_NOT_FOUND', `offset ${offset} was deleted by retention before this scan read it (the log now starts at ${start})`);
}
