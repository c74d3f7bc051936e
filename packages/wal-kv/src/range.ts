import { Buffer, isAscii } from 'node:buffer';
import { badArgument, describeType } from '@keel/core';
import { boundBytesOf, keyBuffer, type Key } from './encoding.js';
import { ENTRY_FIELDS, type KeyIndex } from './key-index.js';
import { KEY_BYTES_MAX } from './limits.js';
import type { ValueRun } from './value-run.js';

/**
 * Which keys an iteration visits, with abstract-level's names: `gt` / `gte` and `lt` /
 * `lte` bound the range (compared as bytes), `reverse` walks it from the end, `limit`
 * stops after that many entries (-1 or Infinity: no limit), `prefix` keeps only keys
 * starting with it (combined with the bounds).
 */
export interface RangeOptions {
  gt?: Key;
  gte?: Key;
  lt?: Key;
  lte?: Key;
  reverse?: boolean;
  limit?: number;
  prefix?: Key;
}

export interface Range {
  lower: Uint8Array | null;
  lowerInclusive: boolean;
  upper: Uint8Array | null;
  upperInclusive: boolean;
  reverse: boolean;
  limit: number;
}

/** Entries fetched from the index per native call. */
export const RANGE_BATCH_ENTRIES = 256;
/** Key bytes per batch: room for at least one key of the largest size. */
const RANGE_BATCH_KEY_BYTES = 2 * (KEY_BYTES_MAX + 1);

export function normalizeRange(options: unknown): Range {
  if (options === null || typeof options !== 'object') throw badArgument(`options must be an object like { gte, lt, reverse, limit }, got ${describeType(options)}`);
  const { gt, gte, lt, lte, reverse = false, limit = -1, prefix } = options as RangeOptions;
  if (gt !== undefined && gte !== undefined) throw badArgument('give gt or gte, not both');
  if (lt !== undefined && lte !== undefined) throw badArgument('give lt or lte, not both');
  if (typeof reverse !== 'boolean') throw badArgument(`reverse must be a boolean, got ${describeType(reverse)}`);
  if (!(limit === -1 || limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) throw badArgument(`limit must be a non-negative integer, -1 or Infinity, got ${describeType(limit)}`);
  const range: Range = {
    lower: gt !== undefined ? bound(gt, 'gt') : gte !== undefined ? bound(gte, 'gte') : null,
    lowerInclusive: gt === undefined,
    upper: lt !== undefined ? bound(lt, 'lt') : lte !== undefined ? bound(lte, 'lte') : null,
    upperInclusive: lt === undefined,
    reverse,
    limit: limit === -1 ? Infinity : limit,
  };
  if (prefix !== undefined) narrowToPrefix(range, bound(prefix, 'prefix'));
  return range;
}

function bound(key: unknown, name: string): Uint8Array {
  return Buffer.from(keyBuffer(boundBytesOf(key, name)));
}

/** Intersects the range with [prefix, the first key after every key that starts with it). */
function narrowToPrefix(range: Range, prefix: Uint8Array): void {
  if (prefix.length === 0) return;
  if (range.lower === null || Buffer.compare(prefix, range.lower) > 0) {
    range.lower = prefix;
    range.lowerInclusive = true;
  }
  const end = prefixEnd(prefix);
  if (end !== null && (range.upper === null || Buffer.compare(end, range.upper) <= 0)) {
    range.upper = end;
    range.upperInclusive = false;
  }
}

/** The least key greater than every key starting with `prefix` (null: none, the prefix is all 0xff). */
function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  let length = prefix.length;
  while (length > 0 && prefix[length - 1] === 0xff) length--;
  if (length === 0) return null;
  const end = Buffer.from(prefix.subarray(0, length));
  end[length - 1]!++;
  return end;
}

/** One entry of a range: its key bytes, the five index fields and the log generation they were fetched in. */
export interface RangeEntry {
  readonly key: Buffer;
  /** The verified value bytes, when read with the batch (see `ValueRun`); else read when handed out. */
  value?: Buffer | undefined;
  generation: number;
  position: number;
  length: number;
  seq: number;
  keyCrc: number;
}

/**
 * The keys of one batch fetched from the index, back to back. A walk that hands out
 * string keys turns the whole batch into one string in one call and each key is a slice
 * of it: one call per batch instead of a UTF-8 decode per key. That holds only when every
 * byte of the batch is ASCII (then its latin1 and UTF-8 readings are the same string);
 * any other batch decodes its keys one by one.
 */
class KeyBatch {
  readonly bytes: Buffer;
  /** The batch as one string; null when it is not all ASCII; undefined until asked for. */
  #text: string | null | undefined = undefined;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** The key at bytes [start, end) as a string, or undefined when the batch is not all ASCII. */
  text(start: number, end: number): string | undefined {
    let text = this.#text;
    if (text === undefined) text = this.#text = isAscii(this.bytes) ? this.bytes.toString('latin1') : null;
    return text === null ? undefined : text.slice(start, end);
  }
}

const EMPTY_BATCH = new KeyBatch(Buffer.alloc(0));

/**
 * An entry of a batch from the index. Its key bytes become a Buffer only when asked for
 * (a walk handing out string keys or only values never asks, except to compare with a
 * key a view captured).
 */
export class BatchEntry implements RangeEntry {
  readonly #batch: KeyBatch;
  readonly #keyStart: number;
  readonly #keyEnd: number;
  #key: Buffer | undefined = undefined;
  value: Buffer | undefined;
  generation: number;
  position: number;
  length: number;
  seq: number;
  keyCrc: number;

  constructor(batch: KeyBatch, keyStart: number, keyEnd: number, value: Buffer | undefined, generation: number, position: number, length: number, seq: number, keyCrc: number) {
    this.#batch = batch;
    this.#keyStart = keyStart;
    this.#keyEnd = keyEnd;
    this.value = value;
    this.generation = generation;
    this.position = position;
    this.length = length;
    this.seq = seq;
    this.keyCrc = keyCrc;
  }

  /** The key's bytes, a view of its batch's copy (the caller's to keep). */
  get key(): Buffer {
    return (this.#key ??= this.#batch.bytes.subarray(this.#keyStart, this.#keyEnd));
  }

  /** The key as a string (its bytes read as UTF-8). */
  keyText(): string {
    return this.#batch.text(this.#keyStart, this.#keyEnd) ?? this.key.toString('utf8');
  }
}

/** What an `IndexCursor` asks before each fetch: that it may go on, and the log generation the fetched fields belong to. */
export interface BatchSource {
  beforeBatch(): number;
}

/** Key bytes a fetch writes into before they are copied out: one buffer for every cursor, used only inside a fetch. */
const scratch = Buffer.allocUnsafe(RANGE_BATCH_KEY_BYTES);

/**
 * The index entries of `range` in key byte order (or reversed), fetched a batch at a
 * time; the next batch starts after the last key of the one before. The first fetch
 * brings the index's ordered view up to date; later ones walk it as it is (no merge of
 * keys added meanwhile, which costs time linear in the key count), so they miss keys
 * added since the walk began and skip keys removed since: the caller (a read view)
 * knows those keys and supplies them. `source.beforeBatch()` runs before each fetch and
 * returns the log generation the fields belong to. Each key is the caller's to keep. With
 * `catchUp` false even the first fetch walks the ordered view as it is (the caller
 * brought it up to date). With `values`, each batch's values are read with it, in one call.
 */
export class IndexCursor {
  readonly #index: KeyIndex;
  readonly #reverse: boolean;
  readonly #source: BatchSource;
  readonly #values: ValueRun | null;
  readonly #out = new Float64Array(RANGE_BATCH_ENTRIES * ENTRY_FIELDS);
  #lower: Uint8Array | null;
  #lowerInclusive: boolean;
  #upper: Uint8Array | null;
  #upperInclusive: boolean;
  #remaining: number;
  /** Whether the next fetch brings the ordered view up to date first (the first one, unless the caller did). */
  #catchUp = true;
  /** The batch being handed out: its keys, generation, size, and the next entry's index and key offset. */
  #keys: KeyBatch = EMPTY_BATCH;
  #generation = 0;
  #count = 0;
  #at = 0;
  #keyStart = 0;
  /** Where the next entry's value starts in the batch's values. */
  #valueStart = 0;
  #exhausted = false;

  constructor(index: KeyIndex, range: Range, source: BatchSource, catchUp = true, values: ValueRun | null = null) {
    this.#index = index;
    this.#values = values;
    this.#catchUp = catchUp;
    this.#reverse = range.reverse;
    this.#source = source;
    this.#lower = range.lower;
    this.#lowerInclusive = range.lowerInclusive;
    this.#upper = range.upper;
    this.#upperInclusive = range.upperInclusive;
    this.#remaining = range.limit;
  }

  /** The next entry, or null once the range is exhausted. */
  next(): BatchEntry | null {
    if (this.#at === this.#count && !this.#fetch()) return null;
    const i = this.#at++;
    const at = i * ENTRY_FIELDS;
    const out = this.#out;
    const keyStart = this.#keyStart;
    const keyEnd = (this.#keyStart = keyStart + out[at + 4]!);
    const length = out[at + 1]!;
    const value = this.#values === null ? undefined : this.#values.value(i, this.#valueStart, length);
    this.#valueStart += length;
    return new BatchEntry(this.#keys, keyStart, keyEnd, value, this.#generation - out[at + 5]!, out[at]!, length, out[at + 2]!, out[at + 3]!);
  }

  /** Fetches the batch after the last key handed out; false when there is none. */
  #fetch(): boolean {
    if (this.#exhausted || this.#remaining <= 0) return false;
    if (this.#count > 0) {
      // Continue after the last key of the batch before.
      const last = this.#keys.bytes.subarray(this.#keyStart - this.#out[(this.#count - 1) * ENTRY_FIELDS + 4]!, this.#keyStart);
      if (this.#reverse) [this.#upper, this.#upperInclusive] = [last, false];
      else [this.#lower, this.#lowerInclusive] = [last, false];
    }
    this.#generation = this.#source.beforeBatch();
    const wanted = Math.min(RANGE_BATCH_ENTRIES, this.#remaining);
    const out = this.#out;
    const count = this.#index.table.range(this.#lower, this.#lowerInclusive, this.#upper, this.#upperInclusive, this.#reverse, wanted, out, scratch, this.#catchUp);
    this.#catchUp = false;
    let keyBytes = 0;
    for (let i = 0; i < count; i++) keyBytes += out[i * ENTRY_FIELDS + 4]!;
    // One tight copy per batch: a key kept by the caller holds on to its batch's bytes only.
    this.#keys = new KeyBatch(Buffer.from(scratch.subarray(0, keyBytes)));
    // Fewer than asked while any key would still have fitted: the range is exhausted after this batch.
    this.#exhausted = count < wanted && scratch.length - keyBytes >= KEY_BYTES_MAX;
    this.#remaining -= count;
    this.#values?.read(out, count);
    this.#count = count;
    this.#at = 0;
    this.#keyStart = 0;
    this.#valueStart = 0;
    return count > 0;
  }
}
