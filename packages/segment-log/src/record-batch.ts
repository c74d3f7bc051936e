import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, badArgument } from '@keel/core';
import { decodeHeaders, emptyLayout, measureRecordAt } from './record-codec.js';
import type { Chunk, RecordCollector } from './record-reader.js';
import type { Segment } from './segment.js';

/** Per record: offset, timestamp, chunk, key start (-1: no key), key length, value start, value length, headers position. */
const FIELDS = 8;
const OFFSET = 0;
const TIMESTAMP = 1;
const CHUNK = 2;
const KEY_START = 3;
const KEY_LENGTH = 4;
const VALUE_START = 5;
const VALUE_LENGTH = 6;
const HEADERS_AT = 7;
/** Room for this many records before the field table first grows. */
const RECORDS_INITIAL = 1024;
/** A 4 MiB read of small records holds tens of thousands: grow in few steps. */
const RECORDS_GROWTH = 4;

/** The constructor, not subarray(): subarray looks up a species constructor per call. */
function viewOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

const NO_HEADERS: readonly [string, Uint8Array][] = Object.freeze([]);

/**
 * Records read in one call, held without an object per record: each record's fields are
 * numbers in one table and its bytes stay where the read put them, so `value(i)` and
 * `key(i)` are views of the read's buffer cut on demand. Every record in a batch passed
 * the same checks as `read()` (CRC-32C, offset, every length) before the batch was handed
 * out.
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
  #fields = new Float64Array(RECORDS_INITIAL * FIELDS);
  #chunks: Chunk[] = [];
  readonly #layout = emptyLayout();

  /** How many records the batch holds. */
  get count(): number {
    return this.#count;
  }

  /** The offset after the batch's last record (where the next read goes on); undefined for an empty batch. */
  get nextOffset(): number | undefined {
    return this.#count === 0 ? undefined : (this.#fields[(this.#count - 1) * FIELDS + OFFSET] as number) + 1;
  }

  /** Offset of record `index` (0 ≤ index < count). */
  offset(index: number): number {
    return this.#fields[this.#at(index) + OFFSET] as number;
  }

  /** Timestamp of record `index`, milliseconds. */
  timestamp(index: number): number {
    return this.#fields[this.#at(index) + TIMESTAMP] as number;
  }

  /** Value of record `index`: a view of the batch's buffer (see the class comment for how long it is valid). */
  value(index: number): Uint8Array {
    const at = this.#at(index);
    return viewOf(this.#chunkOf(at).bytes, this.#fields[at + VALUE_START] as number, this.#fields[at + VALUE_LENGTH] as number);
  }

  /** Key of record `index`, a view like `value`, or null for a record without one. */
  key(index: number): Uint8Array | null {
    const at = this.#at(index);
    const start = this.#fields[at + KEY_START] as number;
    return start < 0 ? null : viewOf(this.#chunkOf(at).bytes, start, this.#fields[at + KEY_LENGTH] as number);
  }

  /** Headers of record `index`, decoded on request (names as strings, values as views); frozen and shared when there are none. */
  headers(index: number): readonly (readonly [string, Uint8Array])[] {
    const at = this.#at(index);
    const chunk = this.#chunkOf(at);
    const headersAt = this.#fields[at + HEADERS_AT] as number;
    if (chunk.view.getUint16(headersAt, true) === 0) return NO_HEADERS;
    return decodeHeaders(chunk.bytes, chunk.view, headersAt);
  }

  /** Collector side: checks the record's layout (as `read()` does) and notes where its fields lie. */
  add(segment: Segment, chunk: Chunk, start: number, end: number): void {
    const layout = this.#layout;
    measureRecordAt(chunk.view, start + FRAME_HEADER_BYTES, end - FRAME_TRAILER_BYTES, segment.paths.log, chunk.position + start, layout);
    if (this.#chunks[this.#chunks.length - 1] !== chunk) this.#chunks.push(chunk);
    if ((this.#count + 1) * FIELDS > this.#fields.length) this.#grow();
    const fields = this.#fields;
    const at = this.#count * FIELDS;
    fields[at + OFFSET] = layout.offset;
    fields[at + TIMESTAMP] = layout.timestamp;
    fields[at + CHUNK] = this.#chunks.length - 1;
    fields[at + KEY_START] = layout.keyStart;
    fields[at + KEY_LENGTH] = layout.keyLength;
    fields[at + VALUE_START] = layout.valueStart;
    fields[at + VALUE_LENGTH] = layout.valueLength;
    fields[at + HEADERS_AT] = layout.headersAt;
    this.#count++;
  }

  /** Empties the batch for reuse by a scan (the field table is kept). */
  reset(): void {
    this.#count = 0;
    this.bytes = 0;
    this.full = false;
    this.#chunks.length = 0;
  }

  #at(index: number): number {
    if (!(index >= 0 && index < this.#count) || !Number.isInteger(index)) throw badArgument(`index must be an integer in [0, ${this.#count}), got ${String(index)}`);
    return index * FIELDS;
  }

  #chunkOf(at: number): Chunk {
    return this.#chunks[this.#fields[at + CHUNK] as number] as Chunk;
  }

  #grow(): void {
    const grown = new Float64Array(this.#fields.length * RECORDS_GROWTH);
    grown.set(this.#fields);
    this.#fields = grown;
  }
}
