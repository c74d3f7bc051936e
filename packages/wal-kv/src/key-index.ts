import { Buffer } from 'node:buffer';
import { KeyTable } from '@keel/core';
import { DeferredApply } from './deferred-apply.js';
import { keyBytesOf, writeUtf8Key, type KeyBytes } from './encoding.js';
import { KEY_BYTES_MAX, MAP_SEGMENT_BYTES, READ_BUFFER_BYTES, VALUE_BYTES_MAX } from './limits.js';

/** `read` results below zero. */
export const READ_ABSENT = -1;
/** Present, but its value is to be read through its log (its fields are in `found`). */
export const READ_ELSEWHERE = -3;
const READ_KEY_INVALID = -2;
/** The buffer `read` writes keys into: byte keys up to its size, string keys of up to a third as many characters (any UTF-8). */
const READ_KEY_BUFFER_BYTES = 1024;
const READ_KEY_CHARACTERS_MAX = READ_KEY_BUFFER_BYTES / 3;
/** `read`'s targets bound in the table: `scratch`, and the last other buffer read into. */
const TARGET_SCRATCH = 0;
const TARGET_OTHER = 1;

/**
 * Fields the table writes per entry: value position, value length, seq, key CRC-32C, key
 * length, and 1 when the value is still in the log generation before the current one (a
 * compaction switched logs and has not moved it yet), else 0.
 */
export const ENTRY_FIELDS = 6;
/** Fields `commitRecord` reports per captured entry: where its key is, then the entry's fields. */
export const CAPTURE_FIELDS = 1 + ENTRY_FIELDS;

/**
 * The in-memory index: `@keel/native`'s `KeyTable`, a hash table over key bytes with the
 * keys in one arena and a fixed-size entry per key (where the key's current value lives:
 * `position` is the log offset of the value's CRC-32C, followed by `length` value bytes,
 * written with `seq`), and an ordered view for ranges kept lazily. Records cross into it
 * once each at replay; on the write path a record is sealed in one call and applied in
 * another, later (see `DeferredApply`), or both in one call while read views are open.
 * Every use of the table goes through `table`, which applies a waiting record first.
 *
 * It also counts the dead bytes of the log (overwritten puts and every delete), which
 * drive compaction. The table is pure computation over memory: it never touches a file.
 */
export class KeyIndex {
  readonly #table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
  readonly #deferred = new DeferredApply();
  /** The fields of the last key `find` found. */
  readonly found = new Float64Array(ENTRY_FIELDS);
  /** A buffer for `read`s whose value is used at once (decoded, or viewed until the next call). */
  readonly scratch = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  #scratch = Buffer.allocUnsafe(256);
  /** The entries the last commit with read views open replaced (see `LogWriter.appendRecord`): a count, then CAPTURE_FIELDS each. */
  captured = new Float64Array(1);
  readonly #readKey = Buffer.allocUnsafeSlow(READ_KEY_BUFFER_BYTES);
  /** What the table has bound for `read`: the segments array, the other target. */
  #boundSegments: ReadonlyArray<Uint8Array | undefined> | null = null;
  #boundOther: Uint8Array | null = null;
  /** A get passes the table only numbers: the key goes through #readKey, the value into a bound target, the fields into `found`. */
  readonly #readBoundCall = this.#table.boundReader();

  constructor() {
    this.#table.bindReadKey(this.#readKey, this.found);
    this.#table.bindReadTarget(TARGET_SCRATCH, this.scratch);
  }

  /** The native table, with any sealed record that waits applied to it first. */
  get table(): KeyTable {
    if (this.#deferred.pending) this.#deferred.applyTo(this.#table);
    return this.#table;
  }

  /**
   * Seals the record frame at `buffer[start..end]` (see `KeyTable.sealRecord`) and keeps
   * it to apply at the next use of the table, or at `applyPending`; false, with nothing
   * changed, when it would leave more than `keysMax` keys (counted after any record
   * that waited).
   */
  sealDeferred(buffer: Uint8Array, start: number, end: number, frameOffset: number, keysMax: number, generation: number): boolean {
    if (!this.table.sealRecord(buffer, start, end, frameOffset, keysMax, generation)) return false;
    this.#deferred.defer(buffer, start, end, frameOffset);
    return true;
  }

  /** Applies a sealed record that waits, if any (the store calls it while the log's fdatasync runs). */
  applyPending(): void {
    this.#deferred.applyTo(this.#table);
  }

  /** `captured`, with room for a record of `operations` operations. */
  capturedFor(operations: number): Float64Array {
    const fields = 1 + CAPTURE_FIELDS * operations;
    if (this.captured.length < fields) this.captured = new Float64Array(Math.max(fields, this.captured.length * 2));
    return this.captured;
  }

  get size(): number {
    return this.table.size;
  }

  get deadBytes(): number {
    return this.table.deadBytes;
  }

  /**
   * `deadBytes` without the record that waits, if any: for a heuristic that may run a
   * record behind (when to compact) and must not apply the record on the write path.
   */
  get deadBytesApplied(): number {
    return this.#table.deadBytes;
  }

  set deadBytes(bytes: number) {
    this.table.deadBytes = bytes;
  }

  /**
   * `find` of a key as a caller passed it, in one native call for a string (its UTF-8
   * bytes are its byte form); undefined when it is not a string of 1 to KEY_BYTES_MAX
   * bytes, for the caller to validate it and say what is wrong.
   */
  findGiven(key: unknown): boolean | undefined {
    if (typeof key !== 'string') return undefined;
    const slot = this.table.findString(key, this.found);
    return slot === -2 ? undefined : slot >= 0;
  }

  /**
   * A get in one native call: looks `key` (as a caller passed it) up and, when its value
   * is in one of the log's mapped `segments`, verifies it against its CRC-32C and copies
   * it into `into` at `at`. Returns its length, READ_ABSENT, or READ_ELSEWHERE (the value
   * is to be read through its log; its fields are in `found`). Throws KEEL_BAD_ARGUMENT /
   * KEEL_TOO_LARGE for a key that is not one.
   */
  read(key: unknown, segments: ReadonlyArray<Uint8Array | undefined>, into: Uint8Array, at: number): number {
    // The bound reader reaches the table without `table`.
    this.applyPending();
    if (typeof key === 'string') {
      const result = key.length <= READ_KEY_CHARACTERS_MAX ? this.#readBound(writeUtf8Key(this.#readKey, key), segments, into, at) : this.table.readString(key, segments, MAP_SEGMENT_BYTES, into, at, this.found);
      if (result !== READ_KEY_INVALID) return result;
    }
    const bytes = keyBytesOf(key);
    if (typeof bytes === 'string') return this.find(bytes) ? READ_ELSEWHERE : READ_ABSENT;
    if (bytes.length > READ_KEY_BUFFER_BYTES) return this.table.readBytes(bytes, bytes.length, segments, MAP_SEGMENT_BYTES, into, at, this.found);
    this.#readKey.set(bytes);
    return this.#readBound(bytes.length, segments, into, at);
  }

  /**
   * `read` of the key in `#readKey[0..keyLength]` through the arrays bound in the table,
   * bound again when they changed: the log's reader replaces its segments array whenever
   * a mapping changes.
   */
  #readBound(keyLength: number, segments: ReadonlyArray<Uint8Array | undefined>, into: Uint8Array, at: number): number {
    if (segments !== this.#boundSegments) {
      this.#table.bindReadSegments(segments, MAP_SEGMENT_BYTES);
      this.#boundSegments = segments;
    }
    if (into === this.scratch) return this.#readBoundCall(keyLength, TARGET_SCRATCH, at);
    if (into !== this.#boundOther) {
      this.#table.bindReadTarget(TARGET_OTHER, into);
      this.#boundOther = into;
    }
    return this.#readBoundCall(keyLength, TARGET_OTHER, at);
  }

  /** Looks `key` up; when present its fields are in `found` (position, length, seq, key CRC, key length, in the previous log). */
  find(key: KeyBytes): boolean {
    if (typeof key !== 'string') return this.table.find(key, key.length, this.found) >= 0;
    if (key.length > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(key.length, this.#scratch.length * 2));
    this.#scratch.write(key, 0, key.length, 'latin1');
    return this.table.find(this.#scratch, key.length, this.found) >= 0;
  }
}
