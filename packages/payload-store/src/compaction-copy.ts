import { KeelError, allocReadMemory, isKeelError, placedBytes, placedView, type Io, type IoFile } from '@keel/core';
import { nextTurn } from './event-loop-turn.js';
import { payloadFrameBytes } from './format.js';
import { encodeBoundFramesInto } from './frame-binding.js';
import { unreadable } from './live-selection.js';
import type { MappingEntry } from './mapping-file.js';
import type { PayloadRef } from './payload-ref.js';
import { verifyPayloadAt } from './reader.js';
import type { SegmentState } from './segment.js';

/** Compaction output is written in batches of about this many bytes: one write each. */
export const COMPACTION_WRITE_BYTES = 1024 * 1024;
/** The most payloads verified and re-framed in one turn of the event loop. */
export const COMPACTION_BATCH_PAYLOADS_MAX = 2048;
/**
 * One read of a source spans at most this many bytes (more only for a single larger
 * frame): the live payloads of a batch and the garbage between them come in one
 * sequential read, on the threadpool.
 */
export const COMPACTION_READ_BYTES = 2 * 1024 * 1024;
if (COMPACTION_READ_BYTES < COMPACTION_WRITE_BYTES) throw new Error('a batch must be able to read what it writes');

/** Consecutive live refs `[first, end)` of one source segment, and the bytes of it one read covers. */
interface Batch {
  readonly segment: number;
  readonly first: number;
  readonly end: number;
  readonly spanStart: number;
  readonly spanEnd: number;
}

/** What the copy needs to know about the store and where the output goes. */
export interface CopyTarget {
  readonly io: Io;
  readonly dir: string;
  readonly segments: ReadonlyMap<number, SegmentState>;
  readonly file: IoFile;
  readonly output: number;
}

/**
 * Copies the live payloads `live` (sorted, each inside its segment's valid end) into
 * `target.file` from `position` on, re-framed for the output, and calls `moved` for each in
 * order. Reads run on the threadpool one batch ahead of the writes; on the event loop each
 * batch costs only its checksums and copies. Resolves to where the output ends.
 */
export async function copyLive(target: CopyTarget, live: readonly PayloadRef[], position: number, moved: (entry: MappingEntry) => void): Promise<number> {
  // Two buffers each way, reused: one is read into (or written from) on the threadpool
  // while the event loop works on the other. Fresh buffers per batch cost page faults and
  // collections of external memory.
  const spans = new BufferPair(COMPACTION_READ_BYTES);
  const outputs = new BufferPair(COMPACTION_WRITE_BYTES);
  let batch = nextBatch(live, 0);
  let reading = batch === null ? null : inFlight(readSpan(target, batch, spans.next(spanBytes(batch), batch.spanStart)));
  let writing: Promise<void> = Promise.resolve();
  while (batch !== null && reading !== null) {
    const span = await reading;
    const following = nextBatch(live, batch.end);
    reading = following === null ? null : inFlight(readSpan(target, following, spans.next(spanBytes(following), following.spanStart)));
    const frames = reframe(target, live, batch, span, position, outputs, moved);
    await writing;
    writing = inFlight(target.file.write(frames, position));
    position += frames.length;
    batch = following;
    // The checksums and copies of the next batch wait for other callbacks.
    await nextTurn();
  }
  await writing;
  return position;
}

/**
 * Two buffers handed out in turn, each at least `bytes` long (larger for a batch that
 * needs more), with a page of slack: each view is placed for the file position it is read
 * from or written to, so the kernel copies it page to page (see @keel/core's
 * read-placement).
 */
class BufferPair {
  readonly #memory: Uint8Array[];
  #turn = 0;

  constructor(bytes: number) {
    this.#memory = [allocReadMemory(bytes), allocReadMemory(bytes)];
  }

  /** The buffer not handed out last time, `bytes` long, placed for file position `position`. */
  next(bytes: number, position: number): Uint8Array {
    this.#turn ^= 1;
    let memory = this.#memory[this.#turn] as Uint8Array;
    if (memory.length < placedBytes(bytes)) this.#memory[this.#turn] = memory = allocReadMemory(bytes);
    return placedView(memory, position, bytes);
  }
}

function spanBytes(batch: Batch): number {
  return batch.spanEnd - batch.spanStart;
}

/**
 * Marks an operation started ahead of the one awaited now as handled: when the copy
 * fails first, its rejection is not reported as unhandled (awaiting it still throws).
 */
function inFlight<T>(operation: Promise<T>): Promise<T> {
  operation.catch(() => undefined);
  return operation;
}

function nextBatch(live: readonly PayloadRef[], first: number): Batch | null {
  const head = live[first];
  if (head === undefined) return null;
  let spanEnd = head.offset + payloadFrameBytes(head.length);
  let outputBytes = payloadFrameBytes(head.length);
  let end = first + 1;
  for (; end < live.length && end - first < COMPACTION_BATCH_PAYLOADS_MAX; end++) {
    const ref = live[end] as PayloadRef;
    const frameBytes = payloadFrameBytes(ref.length);
    const frameEnd = Math.max(spanEnd, ref.offset + frameBytes);
    if (ref.segment !== head.segment || outputBytes + frameBytes > COMPACTION_WRITE_BYTES || frameEnd - head.offset > COMPACTION_READ_BYTES) break;
    spanEnd = frameEnd;
    outputBytes += frameBytes;
  }
  return { segment: head.segment, first, end, spanStart: head.offset, spanEnd };
}

async function readSpan({ io, segments }: CopyTarget, batch: Batch, bytes: Uint8Array): Promise<Uint8Array> {
  const path = (segments.get(batch.segment) as SegmentState).path;
  const file = io.open(path);
  try {
    const read = await file.read(bytes, batch.spanStart);
    if (read !== bytes.length) throw new KeelError('KEEL_CORRUPT', `${path} ends at ${batch.spanStart + read}, inside a live payload`, { path, offset: batch.spanStart + read });
    return bytes;
  } finally {
    file.closeSync();
  }
}

/** Verifies each live payload of `batch` in the bytes read for it and frames them all for their place in the output. */
function reframe(target: CopyTarget, live: readonly PayloadRef[], batch: Batch, span: Uint8Array, position: number, outputs: BufferPair, moved: (entry: MappingEntry) => void): Uint8Array {
  const held = { bytes: span, data: new DataView(span.buffer, span.byteOffset, span.byteLength) };
  const path = (target.segments.get(batch.segment) as SegmentState).path;
  const payloads: Uint8Array[] = [];
  let to = position;
  for (let index = batch.first; index < batch.end; index++) {
    const from = live[index] as PayloadRef;
    try {
      payloads.push(verifyPayloadAt(held, from.offset - batch.spanStart, from, path));
    } catch (error) {
      throw unreadable(target.dir, from, isKeelError(error) ? error.code : String(error), error);
    }
    moved({ from, to: { segment: target.output, offset: to, length: from.length } });
    to += payloadFrameBytes(from.length);
  }
  const frames = outputs.next(to - position, position);
  encodeBoundFramesInto(frames, payloads, target.output, position);
  return frames;
}
