import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, KeelError, badArgument } from '@keel/core';
import { BATCH_HEADER_BYTES } from './format.js';
import { decodeHeaders, emptyBatchHeader, emptyLayout, keyRangeOf, malformed, measureRecordAt, readBatchHeader } from './record-codec.js';
import type { CheckedFrames, Chunk, CollectLimits } from './record-reader.js';
import { corruptAt } from './segment-scan.js';
import type { VarintRead } from './varint.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import type { LogRecord } from './record.js';
import type { Segment } from './segment.js';

/** Room for this many records before the tables of record positions first grow. */
const RECORDS_INITIAL = 4096;
/** A 4 MiB read of small records holds tens of thousands: grow in few steps. */
const RECORDS_GROWTH = 4;

/** The constructor, not subarray(): subarray looks up a species constructor per call. */
function viewOf(chunk: Chunk, start: number, length: number): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset + start, length);
}

const NO_HEADERS: readonly [string, Uint8Array][] = Object.freeze([]);

/** Set by RecordBatch's static block: it reaches the batch's private tables. */
let recordsOfBatch: (batch: RecordBatch) => LogRecord[];

/** How far a `takeFrames` call went: whole frames gone through, and the offset after the last record it went through (taken or skipped). */
export interface FrameProgress {
  frames: number;
  offset: number;
}

/**
 * Records read in one call, held without an object per record: the batch keeps where
 * each record and its value lie and reads the other fields from the bytes where the read
 * put them, so `value(i)` and `key(i)` are views of the read's buffer cut on demand. Every
 * record in a batch passed the same checks as `read()` (CRC-32C, offset, every length)
 * before the batch was handed out.
 *
 * How long the views stay valid depends on where the batch came from: a batch from
 * `readBatch()` owns its buffers, so it and every view cut from it stay valid for as long
 * as they are held (as `read()`'s records do); a batch from `scan()` is lent and its
 * buffers are reused: it and its views are valid only until the scan's next step.
 *
 * A `readBatch()` batch can be released (`release()`, or `using`): its buffers go back to
 * the log for later reads to fill instead of fresh memory, the batch refuses every use
 * after that (KEEL_CLOSED), and views taken from it before may then show other records'
 * bytes. Release only a batch whose views you no longer need.
 */
export class RecordBatch {
  #count = 0;
  #bytes = 0;
  full = false;
  /** The offset of the first record: a batch holds consecutive offsets. */
  #firstOffset = 0;
  /** Per record, where it starts in its chunk (every length in it was checked by `takeFrames`), where its value lies, and its timestamp. */
  #recordStarts = new Uint32Array(RECORDS_INITIAL);
  #valueStarts = new Uint32Array(RECORDS_INITIAL);
  #valueEnds = new Uint32Array(RECORDS_INITIAL);
  #timestamps = new Float64Array(RECORDS_INITIAL);
  #chunks: Chunk[] = [];
  /** Per chunk, the index one past its last record. */
  #chunkEnds: number[] = [];
  readonly #layout = emptyLayout();
  readonly #header = emptyBatchHeader();
  /** Where a release returns the buffers (a `readBatch()` batch); null for a scan's lent batch and `read()`'s. */
  readonly #pool: ReadBufferPool | null;
  #released = false;

  constructor(pool: ReadBufferPool | null) {
    this.#pool = pool;
  }

  /** How many records the batch holds. */
  get count(): number {
    if (this.#released) throw released();
    return this.#count;
  }

  /** The offset after the batch's last record (where the next read goes on); undefined for an empty batch. */
  get nextOffset(): number | undefined {
    if (this.#released) throw released();
    return this.#count === 0 ? undefined : this.#firstOffset + this.#count;
  }

  /** Offset of record `index` (0 ≤ index < count). */
  offset(index: number): number {
    this.#check(index);
    return this.#firstOffset + index;
  }

  /** Timestamp of record `index`, milliseconds. */
  timestamp(index: number): number {
    this.#check(index);
    return this.#timestamps[index]!;
  }

  /** Value of record `index`: a view of the batch's buffer (see the class comment for how long it is valid). */
  value(index: number): Uint8Array {
    const start = this.#valueStarts[index]!;
    return viewOf(this.#chunkOf(index), start, this.#valueEnds[index]! - start);
  }

  /** Key of record `index`, a view like `value`, or null for a record without one. */
  key(index: number): Uint8Array | null {
    return keyOf(this.#chunkOf(index), this.#recordStarts[index]!);
  }

  /** Headers of record `index`, decoded on request (names as strings, values as views); frozen and shared when there are none. */
  headers(index: number): readonly (readonly [string, Uint8Array])[] {
    return headersOf(this.#chunkOf(index), this.#valueEnds[index]!) ?? NO_HEADERS;
  }

  /**
   * Hands the batch's buffers back to the log that read them, for its later
   * `readBatch()` calls to reuse (no fresh memory, no page faults). Afterwards every use
   * of the batch throws KEEL_CLOSED, and views taken from it may show other bytes. A
   * second release does nothing. A scan's batch is lent, not owned: releasing it is
   * KEEL_BAD_ARGUMENT.
   */
  release(): void {
    if (this.#pool === null) throw badArgument("a scan's batch is lent by the scan and cannot be released");
    if (this.#released) return;
    this.#released = true;
    for (const chunk of this.#chunks) this.#pool.give(chunk.buffer);
    this.#chunks.length = 0;
    this.#chunkEnds.length = 0;
  }

  /**
   * `release()`, for `using batch = log.readBatch(...)`. A scan's batch is the scan's to
   * reuse, so leaving its scope gives nothing back: `for await (using batch of log.scan())`
   * reads every batch, as it would without `using`.
   */
  [Symbol.dispose](): void {
    if (this.#pool !== null) this.release();
  }

  static {
    recordsOfBatch = (batch) => batch.#records();
  }

  /** `read()`'s record objects, chunk by chunk; their byte arrays are the batch's views and each has a headers array of its own. */
  #records(): LogRecord[] {
    const records: LogRecord[] = [];
    let index = 0;
    for (let chunkIndex = 0; chunkIndex < this.#chunks.length; chunkIndex++) {
      const chunk = this.#chunks[chunkIndex]!;
      for (const end = this.#chunkEnds[chunkIndex]!; index < end; index++) {
        const valueStart = this.#valueStarts[index]!;
        const valueEnd = this.#valueEnds[index]!;
        records.push({
          offset: this.#firstOffset + index,
          timestamp: this.#timestamps[index]!,
          key: keyOf(chunk, this.#recordStarts[index]!),
          value: viewOf(chunk, valueStart, valueEnd - valueStart),
          headers: headersOf(chunk, valueEnd) ?? [],
        });
      }
    }
    return records;
  }

  /**
   * The read side (every read fills a batch; `read()` then makes record objects of it):
   * goes through the batch frames of `frames` in order, the first starting at offset
   * `expected`, checks each one's header and base offset, skips whole frames below `from`,
   * and in the others measures every record (as `measureRecordAt` does), skips those
   * below `from` and takes the others until a limit is reached (the first record is taken
   * whatever its size). The chunk is noted once per call. Fills `progress`: the frames
   * gone through whole (one a limit stopped in is not counted) and the offset after the
   * last record gone through. One loop for every kind of read keeps its property accesses
   * monomorphic: a loop shared by two collector classes ran at half this speed.
   */
  takeFrames(segment: Segment, frames: CheckedFrames, expected: number, from: number, limits: CollectLimits, progress: FrameProgress): void {
    const { chunk, ends, count } = frames;
    const { bytes, view } = chunk;
    const layout = this.#layout;
    const header = this.#header;
    const path = segment.paths.log;
    const countBefore = this.#count;
    let offset = expected;
    let start = 0;
    let frame = 0;
    for (; frame < count && !this.full; frame++) {
      const end = ends[frame]!;
      const payloadEnd = end - FRAME_TRAILER_BYTES;
      if (!readBatchHeader(view, start + FRAME_HEADER_BYTES, payloadEnd, header)) throw malformed(path, chunk.position + start, 'batch header');
      if (header.baseOffset !== offset) throw corruptAt(segment, chunk.position + start, `batch does not start at offset ${offset}`);
      if (offset + header.count <= from) {
        // Below the read: checked by its CRC and header, not record by record.
        offset += header.count;
        start = end;
        continue;
      }
      const room = Math.min(this.#count + header.count, limits.maxRecords);
      if (this.#recordStarts.length < room) this.#grow(room);
      let position = start + FRAME_HEADER_BYTES + BATCH_HEADER_BYTES;
      for (let record = 0; record < header.count; record++) {
        const recordStart = position;
        position = measureRecordAt(bytes, position, payloadEnd, header.baseTimestamp, layout);
        if (position < 0) throw malformed(path, chunk.position + start, layout.malformed);
        if (offset < from) {
          offset++;
          continue;
        }
        if (this.#count > 0 && this.#bytes + (position - recordStart) > limits.maxBytes) {
          this.full = true;
          break;
        }
        const taken = this.#count++;
        if (taken === 0) this.#firstOffset = offset;
        this.#recordStarts[taken] = recordStart;
        this.#valueStarts[taken] = layout.valueStart;
        this.#valueEnds[taken] = layout.valueStart + layout.valueLength;
        this.#timestamps[taken] = layout.timestamp;
        this.#bytes += position - recordStart;
        offset++;
        if (this.#count >= limits.maxRecords) {
          this.full = true;
          break;
        }
      }
      if (this.full) break;
      if (position !== payloadEnd) throw malformed(path, chunk.position + start, 'record count (bytes after its last record)');
      start = end;
    }
    if (this.#count > countBefore) {
      this.#chunks.push(chunk);
      this.#chunkEnds.push(this.#count);
    }
    progress.frames = frame;
    progress.offset = offset;
  }

  /** Empties the batch for reuse by a scan (the table is kept). */
  reset(): void {
    this.#count = 0;
    this.#bytes = 0;
    this.full = false;
    this.#chunks.length = 0;
    this.#chunkEnds.length = 0;
  }

  #check(index: number): void {
    if (this.#released) throw released();
    if (!(index >= 0 && index < this.#count) || !Number.isInteger(index)) throw badArgument(`index must be an integer in [0, ${this.#count}), got ${String(index)}`);
  }

  /** The chunk holding record `index` (a batch spans a few chunks at most). */
  #chunkOf(index: number): Chunk {
    this.#check(index);
    let chunk = 0;
    while (index >= this.#chunkEnds[chunk]!) chunk++;
    return this.#chunks[chunk]!;
  }

  /** Room for at least `records` records in the tables. */
  #grow(records: number): void {
    let length = this.#recordStarts.length;
    while (length < records) length *= RECORDS_GROWTH;
    this.#recordStarts = grown(new Uint32Array(length), this.#recordStarts, this.#count);
    this.#valueStarts = grown(new Uint32Array(length), this.#valueStarts, this.#count);
    this.#valueEnds = grown(new Uint32Array(length), this.#valueEnds, this.#count);
    this.#timestamps = grown(new Float64Array(length), this.#timestamps, this.#count);
  }
}

function released(): KeelError {
  return new KeelError('KEEL_CLOSED', 'the batch was released: its buffers went back to the log for later reads');
}

/** The records of a batch as objects (what `read()` returns); they share the batch's buffers. */
export function recordsOf(batch: RecordBatch): LogRecord[] {
  return recordsOfBatch(batch);
}

function grown<T extends Uint32Array | Float64Array>(into: T, from: T, count: number): T {
  into.set(from.subarray(0, count));
  return into;
}

const keyRange: VarintRead = { value: 0, next: 0 };

function keyOf(chunk: Chunk, recordStart: number): Uint8Array | null {
  keyRangeOf(chunk.bytes, recordStart, keyRange);
  return keyRange.value < 0 ? null : viewOf(chunk, keyRange.next, keyRange.value);
}

/** The record's headers (from its header count at `headersAt`, where its value ends), decoded into a fresh array; null when it has none. */
function headersOf(chunk: Chunk, headersAt: number): [string, Uint8Array][] | null {
  if (chunk.bytes[headersAt] === 0) return null;
  return decodeHeaders(chunk.bytes, headersAt);
}
