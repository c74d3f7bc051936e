import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, badArgument } from '@keel/core';
import { KEY_NULL, getInt64 } from './format.js';
import { decodeHeaders, emptyLayout, measureRecordAt } from './record-codec.js';
import type { Chunk, RecordCollector } from './record-reader.js';
import type { Segment } from './segment.js';

/** Payload layout (README "Format"): offset u64, timestamp i64, key length i32, key, value length u32, value, headers. */
const TIMESTAMP_AT = 8;
const KEY_LENGTH_AT = 16;
/** Room for this many records before the table of payload positions first grows. */
const RECORDS_INITIAL = 4096;
/** A 4 MiB read of small records holds tens of thousands: grow in few steps. */
const RECORDS_GROWTH = 4;

/** The constructor, not subarray(): subarray looks up a species constructor per call. */
function viewOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

const NO_HEADERS: readonly [string, Uint8Array][] = Object.freeze([]);

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
 */
export class RecordBatch implements RecordCollector {
  #count = 0;
  bytes = 0;
  full = false;
  /** The offset of the first record: a batch holds consecutive offsets. */
  #firstOffset = 0;
  /** Per record, where its payload starts in its chunk; every length in it was checked by `add`. */
  #payloadStarts = new Uint32Array(RECORDS_INITIAL);
  #chunks: Chunk[] = [];
  /** Per chunk, the index one past its last record. */
  #chunkEnds: number[] = [];
  readonly #layout = emptyLayout();

  /** How many records the batch holds. */
  get count(): number {
    return this.#count;
  }

  /** The offset after the batch's last record (where the next read goes on); undefined for an empty batch. */
  get nextOffset(): number | undefined {
    return this.#count === 0 ? undefined : this.#firstOffset + this.#count;
  }

  /** Offset of record `index` (0 ≤ index < count). */
  offset(index: number): number {
    this.#check(index);
    return this.#firstOffset + index;
  }

  /** Timestamp of record `index`, milliseconds. */
  timestamp(index: number): number {
    const chunk = this.#chunkOf(index);
    return getInt64(chunk.view, this.#payloadStarts[index]! + TIMESTAMP_AT) as number;
  }

  /** Value of record `index`: a view of the batch's buffer (see the class comment for how long it is valid). */
  value(index: number): Uint8Array {
    const chunk = this.#chunkOf(index);
    const at = valueLengthAt(chunk.view, this.#payloadStarts[index]!);
    return viewOf(chunk.bytes, at + 4, chunk.view.getUint32(at, true));
  }

  /** Key of record `index`, a view like `value`, or null for a record without one. */
  key(index: number): Uint8Array | null {
    const chunk = this.#chunkOf(index);
    const at = this.#payloadStarts[index]! + KEY_LENGTH_AT;
    const length = chunk.view.getInt32(at, true);
    return length === KEY_NULL ? null : viewOf(chunk.bytes, at + 4, length);
  }

  /** Headers of record `index`, decoded on request (names as strings, values as views); frozen and shared when there are none. */
  headers(index: number): readonly (readonly [string, Uint8Array])[] {
    const chunk = this.#chunkOf(index);
    const valueAt = valueLengthAt(chunk.view, this.#payloadStarts[index]!);
    const headersAt = valueAt + 4 + chunk.view.getUint32(valueAt, true);
    if (chunk.view.getUint16(headersAt, true) === 0) return NO_HEADERS;
    return decodeHeaders(chunk.bytes, chunk.view, headersAt);
  }

  /** Collector side: checks the record's layout (as `read()` does) and notes where its payload starts. */
  add(segment: Segment, chunk: Chunk, start: number, end: number): void {
    const payloadStart = start + FRAME_HEADER_BYTES;
    measureRecordAt(chunk.view, payloadStart, end - FRAME_TRAILER_BYTES, segment.paths.log, chunk.position + start, this.#layout);
    if (this.#count === 0) this.#firstOffset = this.#layout.offset;
    else if (this.#layout.offset !== this.#firstOffset + this.#count) throw new Error('a batch holds consecutive offsets');
    if (this.#chunks[this.#chunks.length - 1] !== chunk) {
      this.#chunks.push(chunk);
      this.#chunkEnds.push(this.#count);
    }
    if (this.#count === this.#payloadStarts.length) this.#grow();
    this.#payloadStarts[this.#count] = payloadStart;
    this.#count++;
    this.#chunkEnds[this.#chunkEnds.length - 1] = this.#count;
  }

  /** Empties the batch for reuse by a scan (the table is kept). */
  reset(): void {
    this.#count = 0;
    this.bytes = 0;
    this.full = false;
    this.#chunks.length = 0;
    this.#chunkEnds.length = 0;
  }

  #check(index: number): void {
    if (!(index >= 0 && index < this.#count) || !Number.isInteger(index)) throw badArgument(`index must be an integer in [0, ${this.#count}), got ${String(index)}`);
  }

  /** The chunk holding record `index` (a batch spans a few chunks at most). */
  #chunkOf(index: number): Chunk {
    this.#check(index);
    let chunk = 0;
    while (index >= this.#chunkEnds[chunk]!) chunk++;
    return this.#chunks[chunk]!;
  }

  #grow(): void {
    const grown = new Uint32Array(this.#payloadStarts.length * RECORDS_GROWTH);
    grown.set(this.#payloadStarts);
    this.#payloadStarts = grown;
  }
}

/** Where the value length of the (checked) record payload at `payloadStart` lies: past the key, if any. */
function valueLengthAt(view: DataView, payloadStart: number): number {
  const keyLength = view.getInt32(payloadStart + KEY_LENGTH_AT, true);
  return payloadStart + KEY_LENGTH_AT + 4 + (keyLength === KEY_NULL ? 0 : keyLength);
}
