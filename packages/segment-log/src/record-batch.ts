import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, KeelError, badArgument } from '@keel/core';
import { KEY_NULL, getInt64 } from './format.js';
import { decodeHeaders, emptyLayout, measureRecordAt } from './record-codec.js';
import { checkRecordOffset, type CheckedFrames, type Chunk, type CollectLimits } from './record-reader.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import type { LogRecord } from './record.js';
import type { Segment } from './segment.js';

/** Payload layout (README "Format"): offset u64, timestamp i64, key length i32, key, value length u32, value, headers. */
const TIMESTAMP_AT = 8;
const KEY_LENGTH_AT = 16;
/** Room for this many records before the table of payload positions first grows. */
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

/**
 * Records read in one call, held without an object per record: the batch keeps where
 * each record's payload starts and reads its fields from the bytes where the read put
 * them, so `value(i)` and `key(i)` are views of the read's buffer cut on demand. Every
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
  /** Per record, where its payload starts in its chunk; every length in it was checked by `add`. */
  #payloadStarts = new Uint32Array(RECORDS_INITIAL);
  #chunks: Chunk[] = [];
  /** Per chunk, the index one past its last record. */
  #chunkEnds: number[] = [];
  readonly #layout = emptyLayout();
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
    return timestampOf(this.#chunkOf(index), this.#payloadStarts[index]!);
  }

  /** Value of record `index`: a view of the batch's buffer (see the class comment for how long it is valid). */
  value(index: number): Uint8Array {
    return valueOf(this.#chunkOf(index), this.#payloadStarts[index]!);
  }

  /** Key of record `index`, a view like `value`, or null for a record without one. */
  key(index: number): Uint8Array | null {
    return keyOf(this.#chunkOf(index), this.#payloadStarts[index]!);
  }

  /** Headers of record `index`, decoded on request (names as strings, values as views); frozen and shared when there are none. */
  headers(index: number): readonly (readonly [string, Uint8Array])[] {
    return headersOf(this.#chunkOf(index), this.#payloadStarts[index]!) ?? NO_HEADERS;
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
        const payloadStart = this.#payloadStarts[index]!;
        records.push({
          offset: this.#firstOffset + index,
          timestamp: timestampOf(chunk, payloadStart),
          key: keyOf(chunk, payloadStart),
          value: valueOf(chunk, payloadStart),
          headers: headersOf(chunk, payloadStart) ?? [],
        });
      }
    }
    return records;
  }

  /**
   * The read side (every read fills a batch; `read()` then makes record objects of it):
   * goes through `frames` in order, the first carrying offset `expected`, checks each
   * record's offset, skips those below `from`, and takes the others until a limit is
   * reached (the first record is taken whatever its size). A record taken has its layout
   * checked (as `measureRecordAt` does) and its payload start noted; the chunk is noted
   * once per call. Returns how many frames it went through (one a limit refused is not
   * counted). One loop for every kind of read keeps its property accesses monomorphic: a
   * loop shared by two collector classes ran at half this speed.
   */
  takeFrames(segment: Segment, frames: CheckedFrames, expected: number, from: number, limits: CollectLimits): number {
    const { chunk, ends, count } = frames;
    const layout = this.#layout;
    const path = segment.paths.log;
    const room = Math.min(this.#count + count, limits.maxRecords);
    if (this.#payloadStarts.length < room) this.#grow(room);
    const payloadStarts = this.#payloadStarts;
    const countBefore = this.#count;
    let start = 0;
    let index = 0;
    for (; index < count && !this.full; index++) {
      const end = ends[index]!;
      checkRecordOffset(segment, chunk, start, expected + index);
      if (expected + index >= from) {
        if (this.#count > 0 && this.#bytes + (end - start) > limits.maxBytes) {
          this.full = true;
          break;
        }
        measureRecordAt(chunk.view, start + FRAME_HEADER_BYTES, end - FRAME_TRAILER_BYTES, path, chunk.position + start, layout);
        if (this.#count === 0) this.#firstOffset = layout.offset;
        payloadStarts[this.#count++] = start + FRAME_HEADER_BYTES;
        this.#bytes += end - start;
        if (this.#count >= limits.maxRecords) this.full = true;
      }
      start = end;
    }
    if (this.#count > countBefore) {
      this.#chunks.push(chunk);
      this.#chunkEnds.push(this.#count);
    }
    return index;
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

  /** Room for at least `records` payload starts. */
  #grow(records: number): void {
    let length = this.#payloadStarts.length;
    while (length < records) length *= RECORDS_GROWTH;
    const grown = new Uint32Array(length);
    grown.set(this.#payloadStarts.subarray(0, this.#count));
    this.#payloadStarts = grown;
  }
}

function released(): KeelError {
  return new KeelError('KEEL_CLOSED', 'the batch was released: its buffers went back to the log for later reads');
}

/** The records of a batch as objects (what `read()` returns); they share the batch's buffers. */
export function recordsOf(batch: RecordBatch): LogRecord[] {
  return recordsOfBatch(batch);
}

function timestampOf(chunk: Chunk, payloadStart: number): number {
  return getInt64(chunk.view, payloadStart + TIMESTAMP_AT) as number;
}

function valueOf(chunk: Chunk, payloadStart: number): Uint8Array {
  const at = valueLengthAt(chunk.view, payloadStart);
  return viewOf(chunk, at + 4, chunk.view.getUint32(at, true));
}

function keyOf(chunk: Chunk, payloadStart: number): Uint8Array | null {
  const at = payloadStart + KEY_LENGTH_AT;
  const length = chunk.view.getInt32(at, true);
  return length === KEY_NULL ? null : viewOf(chunk, at + 4, length);
}

/** The record's headers, decoded into a fresh array; null when it has none. */
function headersOf(chunk: Chunk, payloadStart: number): [string, Uint8Array][] | null {
  const valueAt = valueLengthAt(chunk.view, payloadStart);
  const headersAt = valueAt + 4 + chunk.view.getUint32(valueAt, true);
  if (chunk.view.getUint16(headersAt, true) === 0) return null;
  return decodeHeaders(chunk.bytes, chunk.view, headersAt);
}

/** Where the value length of the (checked) record payload at `payloadStart` lies: past the key, if any. */
function valueLengthAt(view: DataView, payloadStart: number): number {
  const keyLength = view.getInt32(payloadStart + KEY_LENGTH_AT, true);
  return payloadStart + KEY_LENGTH_AT + 4 + (keyLength === KEY_NULL ? 0 : keyLength);
}
