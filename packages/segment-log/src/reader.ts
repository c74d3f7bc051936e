import type { LogRecord } from './record.js';
import { RecordBatch, recordsOf } from './record-batch.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import { collectRecords } from './record-reader.js';
import { lastAtOrBelow, type Segment } from './segment.js';
import { corruptAt, scanRecords } from './segment-scan.js';

export const READ_BYTES_DEFAULT = 1024 * 1024;
/**
 * A read reads its byte budget (`maxBytes`) plus this much in one go: room for the
 * index interval it may skip before its first record and for the frame that ends it, so
 * a read of small records is one read and one CRC check, and its batch one buffer.
 */
const READ_CHUNK_SLACK_BYTES = 64 * 1024;
/** Reads allocate at most this much at once (a larger record grows it); a larger budget takes more reads. */
export const READ_CHUNK_BYTES_MAX = 8 * 1024 * 1024 + READ_CHUNK_SLACK_BYTES;
const READ_CHUNK_BYTES_MIN = 16 * 1024;
/**
 * A read with a record limit starts this small and doubles up to the chunk size: it skips
 * at most one index interval (4 KiB by default) before its first record, so a one-record
 * read costs one small read and CRC check instead of a whole chunk's.
 */
const READ_CHUNK_BYTES_FIRST_LIMITED = 8 * 1024;
/** A timestamp lookup scans about one index interval; small reads keep it cheap. */
const SEEK_CHUNK_BYTES = 8 * 1024;

/** Index of the segment holding `offset`: the last one whose base offset is <= it. */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  let found = 0;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if ((segments[middle] as Segment).baseOffset <= offset) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** Where to start scanning a segment for `offset`: an indexed record at or before it. */
export function seek(segment: Segment, offset: number): { position: number; offset: number } {
  const relative = offset - segment.baseOffset;
  const entry = lastAtOrBelow(segment.index.offsetRelative, relative);
  if (entry < 0) return { position: segment.index.positionFor(0), offset: segment.baseOffset };
  return { position: segment.index.offsetPosition[entry] as number, offset: segment.baseOffset + (segment.index.offsetRelative[entry] as number) };
}

export interface ReadLimits {
  maxBytes: number;
  maxRecords: number;
}

/**
 * Reads records from `offset` (which must lie in [start, next)) through the following
 * segments until a limit is reached; the first record is returned even when it alone
 * exceeds `maxBytes`, so a reader always makes progress.
 */
export function readRecords(segments: readonly Segment[], offset: number, limits: ReadLimits): LogRecord[] {
  const batch = new RecordBatch(null);
  collectFrom(segments, offset, limits, batch, null);
  return recordsOf(batch);
}

/**
 * `readRecords` into a batch: `readBatch()` hands it out as it is. With `pool`, reads may
 * use buffers that released batches gave back (the batch returns its own on release).
 */
export function collectFrom(segments: readonly Segment[], offset: number, limits: ReadLimits, collected: RecordBatch, pool: ReadBufferPool | null): void {
  const chunkBytes = Math.min(READ_CHUNK_BYTES_MAX, Math.max(READ_CHUNK_BYTES_MIN, limits.maxBytes + READ_CHUNK_SLACK_BYTES));
  const chunks = { first: limits.maxRecords < Number.MAX_SAFE_INTEGER ? Math.min(chunkBytes, READ_CHUNK_BYTES_FIRST_LIMITED) : chunkBytes, max: chunkBytes };
  for (let index = segmentIndexFor(segments, offset); index < segments.length && !collected.full; index++) {
    const segment = segments[index] as Segment;
    const from = collected.count === 0 ? offset : segment.baseOffset;
    if (from >= segment.nextOffset) continue;
    const start = seek(segment, from);
    collectRecords(segment, start.position, start.offset, from, limits, chunks, collected, pool);
  }
}

interface SealedMaxima {
  length: number;
  first: Segment | undefined;
  /** Running max of the sealed segments' max timestamps: ascending, so it can be binary searched. */
  running: Float64Array;
}

/** Per segment list; rebuilt when a roll or retention changes the list. */
const sealedMaximaCache = new WeakMap<readonly Segment[], SealedMaxima>();

function sealedMaxima(segments: readonly Segment[]): Float64Array {
  const cached = sealedMaximaCache.get(segments);
  if (cached && cached.length === segments.length && cached.first === segments[0]) return cached.running;
  const running = new Float64Array(Math.max(0, segments.length - 1));
  let max = -Infinity;
  for (let index = 0; index < running.length; index++) {
    max = Math.max(max, (segments[index] as Segment).maxTimestamp);
    running[index] = max;
  }
  sealedMaximaCache.set(segments, { length: segments.length, first: segments[0], running });
  return running;
}

/**
 * First offset whose timestamp is >= `timestamp`. The segment is the first whose max
 * timestamp reaches the target (found by binary search over the running max); in it the
 * time index names the last record known to be below the target, the offset index gives
 * a position near it, and a short scan finds the record.
 */
export function offsetForTimestamp(segments: readonly Segment[], timestamp: number): number | undefined {
  const running = sealedMaxima(segments);
  const below = lastAtOrBelow(running, timestamp - 1);
  const segment = segments[below + 1];
  if (segment === undefined || segment.records === 0 || segment.maxTimestamp < timestamp) return undefined;
  const fromOffset = segment.baseOffset + segment.index.relativeForTimestamp(timestamp);
  const start = seek(segment, fromOffset);
  let found: number | undefined;
  const result = scanRecords(segment, start.position, start.offset, segment.size, (record) => {
    if (record.offset < fromOffset || record.timestamp < timestamp) return true;
    found = record.offset;
    return false;
  }, SEEK_CHUNK_BYTES);
  if (found !== undefined) return found;
  throw corruptAt(segment, result.end, `no record reaches timestamp ${timestamp} although the segment's max timestamp is ${segment.maxTimestamp}`);
}
