import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FrameChunkReader, KeelError, badArgument, throwIfAborted, type AsyncFrameSource, type FrameChunk, type IoFile } from '@keel/core';
import { JOURNAL_FRAME_FORMAT } from './format.js';
import type { JournalWriter } from './writer.js';
import { assertScanReachedEnd } from './records.js';

/**
 * A run of records as they lie in one buffer, with no object per record: `lsn(i)` and
 * `payload(i)` read the frame ends the native check recorded. A scan reuses its buffers,
 * so a batch and every payload view cut from it are valid only until the scan's next step.
 */
export class JournalBatch {
  #chunk: FrameChunk | null = null;
  // The chunk's fields, copied out once per chunk: `payload(i)` runs once per record, and
  // reading them here costs less than going through the chunk and its byte view each time.
  #count = 0;
  #ends: Uint32Array = new Uint32Array(0);
  #buffer: ArrayBufferLike = new ArrayBuffer(0);
  /** Where the first frame's payload starts in `#buffer`. */
  #payloadBase = 0;

  /** How many records the batch holds. */
  get count(): number {
    return this.#count;
  }

  /** The LSN of record `index` (the offset just past its frame; 0 ≤ index < count). */
  lsn(index: number): number {
    this.#check(index);
    return (this.#chunk as FrameChunk).position + this.#ends[index]!;
  }

  /** The payload of record `index`: a view of the scan's buffer, valid until the scan's next step. */
  payload(index: number): Uint8Array {
    this.#check(index);
    const ends = this.#ends;
    const start = index === 0 ? 0 : ends[index - 1]!;
    // The constructor, not subarray(): subarray looks up a species constructor per call.
    return new Uint8Array(this.#buffer, this.#payloadBase + start, ends[index]! - start - FRAME_OVERHEAD_BYTES);
  }

  /** Scan side: the batch now shows this chunk. */
  show(chunk: FrameChunk): void {
    this.#chunk = chunk;
    this.#count = chunk.count;
    this.#ends = chunk.ends;
    this.#buffer = chunk.bytes.buffer;
    this.#payloadBase = chunk.bytes.byteOffset + FRAME_HEADER_BYTES;
  }

  #check(index: number): void {
    if (!(index >= 0 && index < this.#count) || !Number.isInteger(index)) {
      throw badArgument(`index must be an integer in [0, ${this.#count}), got ${String(index)}`);
    }
  }
}

export interface JournalScanTarget {
  path: string;
  file: IoFile;
  writer: JournalWriter;
  isClosed(): boolean;
}

/**
 * The records in `[from, to)` as batches of a chunk each (FrameChunkReader: asynchronous,
 * double-buffered reads, one native check per chunk). Bytes the writer has not handed to
 * the OS yet are copied from its buffer, so a scan never writes. Damage below `to` is
 * KEEL_CORRUPT; closing the journal ends the scan quietly.
 */
export async function* scanJournalBatches(target: JournalScanTarget, from: number, to: number, signal: AbortSignal | undefined): AsyncGenerator<JournalBatch, void, undefined> {
  const reader = new FrameChunkReader(visibleBytes(target), JOURNAL_FRAME_FORMAT, { from, to });
  const batch = new JournalBatch();
  for (;;) {
    throwIfAborted(signal);
    let chunk: FrameChunk | null;
    try {
      chunk = await reader.next();
    } catch (error) {
      if (target.isClosed()) return;
      throw error;
    }
    throwIfAborted(signal);
    if (target.isClosed()) return;
    if (chunk === null) break;
    batch.show(chunk);
    yield batch;
  }
  assertScanReachedEnd({ tailState: reader.tailState ?? 'clean-end', position: reader.validBytes }, from, to, target.path);
}

/** The journal as a scan reads it: the file below the writer's hand-off point, its buffer above. */
function visibleBytes(target: JournalScanTarget): AsyncFrameSource {
  return {
    async read(into: Uint8Array, position: number): Promise<number> {
      let done = 0;
      while (done < into.length) {
        if (target.isClosed()) throw new KeelError('KEEL_CLOSED', `journal ${target.path} closed during a scan`, { path: target.path });
        const at = position + done;
        const handed = target.writer.handedThrough;
        if (at >= handed) return done + target.writer.readPending(into.subarray(done), at);
        const read = await target.file.read(into.subarray(done, done + Math.min(into.length - done, handed - at)), at);
        if (read === 0) break;
        done += read;
      }
      return done;
    },
  };
}
