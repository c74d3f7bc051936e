import { Buffer } from 'node:buffer';
import { badArgument, describeType } from '@keel/core';
import { boundBytesOf, keyBuffer, type Key } from './encoding.js';
import { ENTRY_FIELDS, type KeyIndex } from './key-index.js';
import { KEY_BYTES_MAX } from './limits.js';

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
const RANGE_BATCH_ENTRIES = 256;
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
  key: Buffer;
  generation: number;
  position: number;
  length: number;
  seq: number;
  keyCrc: number;
}

/**
 * The index entries of `range` in key byte order (or reversed), fetched a batch at a
 * time; the next batch starts after the last key of the one before. The first fetch
 * brings the index's ordered view up to date; later ones walk it as it is (no merge of
 * keys added meanwhile, which costs time linear in the key count), so they miss keys
 * added since the walk began and skip keys removed since: the caller (a read view)
 * knows those keys and supplies them. `beforeBatch` runs before each fetch and returns
 * the log generation the fields belong to. Each yielded key is the caller's to keep.
 */
export function* rangeEntries(index: KeyIndex, range: Range, beforeBatch: () => number): Generator<RangeEntry> {
  const out = new Float64Array(RANGE_BATCH_ENTRIES * ENTRY_FIELDS);
  const scratch = Buffer.allocUnsafe(RANGE_BATCH_KEY_BYTES);
  let { lower, lowerInclusive, upper, upperInclusive } = range;
  let remaining = range.limit;
  let first = true;
  while (remaining > 0) {
    const generation = beforeBatch();
    const wanted = Math.min(RANGE_BATCH_ENTRIES, remaining);
    const count = index.table.range(lower, lowerInclusive, upper, upperInclusive, range.reverse, wanted, out, scratch, first);
    first = false;
    let keyBytes = 0;
    for (let i = 0; i < count; i++) keyBytes += out[i * ENTRY_FIELDS + 4]!;
    // One tight copy per batch: a key kept by the caller holds on to its batch's bytes only.
    const keys = Buffer.from(scratch.subarray(0, keyBytes));
    let keyStart = 0;
    let key: Buffer | null = null;
    for (let i = 0; i < count; i++) {
      const at = i * ENTRY_FIELDS;
      key = keys.subarray(keyStart, keyStart + out[at + 4]!);
      keyStart += key.length;
      yield { key, generation, position: out[at]!, length: out[at + 1]!, seq: out[at + 2]!, keyCrc: out[at + 3]! };
    }
    // Fewer than asked while any key would still have fitted: the range is exhausted.
    if (key === null || (count < wanted && scratch.length - keyBytes >= KEY_BYTES_MAX)) return;
    remaining -= count;
    if (range.reverse) [upper, upperInclusive] = [key, false];
    else [lower, lowerInclusive] = [key, false];
  }
}
