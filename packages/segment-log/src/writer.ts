import type { Io } from '@keel/core';
import type { SealedFileCache } from './file-cache.js';
import type { NormalizedOptions } from './options.js';
import type { PreparedRecord } from './record.js';
import { encodeRecordFrames, recordFrameBytes } from './record-codec.js';
import type { Segment } from './segment.js';
import { createSegment, sealSegment } from './segment-files.js';

/** A batch is written in pieces of at most this many bytes (always at least one record). */
export const WRITE_CHUNK_BYTES_MAX = 16 * 1024 * 1024;

export interface WriterContext {
  io: Io;
  dir: string;
  options: NormalizedOptions;
  /** Oldest first; the last one is active. */
  segments: Segment[];
  /** Open files of sealed segments, least recently used closed first. */
  files: SealedFileCache;
  /** Called after a roll (the log runs retention then). */
  onRoll(): void;
}

export function activeSegment(context: WriterContext): Segment {
  const segment = context.segments[context.segments.length - 1];
  if (segment === undefined) throw new Error('a segment log always has an active segment');
  return segment;
}

/**
 * Appends validated records, rolling to a new segment whenever the next record would
 * push the active one past `segmentBytes` or is more than `segmentMs` newer than its
 * first record. Each run of records that stays in one segment costs one write.
 * Returns the offset of the first record.
 */
export function appendPrepared(context: WriterContext, records: readonly PreparedRecord[]): number {
  const first = activeSegment(context).nextOffset;
  let next = 0;
  while (next < records.length) {
    const segment = activeSegment(context);
    const count = recordsThatFit(segment, records, next, context.options);
    if (count === 0) {
      roll(context);
      continue;
    }
    writeRun(segment, records, next, next + count, context.options.indexIntervalBytes);
    next += count;
  }
  return first;
}

function recordsThatFit(segment: Segment, records: readonly PreparedRecord[], from: number, options: NormalizedOptions): number {
  const firstTimestamp = segment.firstTimestamp ?? (records[from] as PreparedRecord).timestamp;
  let bytes = 0;
  let count = 0;
  for (let index = from; index < records.length; index++) {
    const record = records[index] as PreparedRecord;
    const frameBytes = recordFrameBytes(record);
    // An empty segment takes any one record, however large, so that every record fits somewhere.
    if (segment.records + count > 0) {
      if (segment.size + bytes + frameBytes > options.segmentBytes) break;
      if (record.timestamp - firstTimestamp > options.segmentMs) break;
      if (count > 0 && bytes + frameBytes > WRITE_CHUNK_BYTES_MAX) break;
    }
    bytes += frameBytes;
    count++;
  }
  return count;
}

function writeRun(segment: Segment, records: readonly PreparedRecord[], from: number, to: number, intervalBytes: number): void {
  let bytes = 0;
  for (let index = from; index < to; index++) bytes += recordFrameBytes(records[index] as PreparedRecord);
  // Every byte is overwritten by the encoder, so the buffer need not be zeroed.
  const buffer = Buffer.allocUnsafe(bytes);
  const end = encodeRecordFrames(buffer, 0, records, from, to, segment.nextOffset);
  if (end !== bytes) throw new Error('batch encoding disagrees with its prepared size');
  segment.log.writeSync(buffer, segment.size);
  let position = segment.size;
  for (let index = from; index < to; index++) {
    const record = records[index] as PreparedRecord;
    const frameEnd = position + recordFrameBytes(record);
    segment.observe(record.timestamp, position, frameEnd, intervalBytes);
    position = frameEnd;
  }
}

/** Seals the active segment (durably) and starts the next one at the following offset. */
export function roll(context: WriterContext): void {
  const sealed = activeSegment(context);
  sealSegment(sealed);
  context.segments.push(createSegment(context.io, context.dir, sealed.nextOffset, context.files));
  context.onRoll();
}
