import { Buffer } from 'node:buffer';
import { KeyTable } from '@keel/core';
import type { KeyBytes } from './encoding.js';
import { KEY_BYTES_MAX, VALUE_BYTES_MAX } from './limits.js';

/**
 * Fields the table writes per entry: value position, value length, seq, key CRC-32C, key
 * length, and 1 when the value is still in the log generation before the current one (a
 * compaction switched logs and has not moved it yet), else 0.
 */
export const ENTRY_FIELDS = 6;

/**
 * The in-memory index: `@keel/native`'s `KeyTable`, a hash table over key bytes with the
 * keys in one arena and a fixed-size entry per key (where the key's current value lives:
 * `position` is the log offset of the value's CRC-32C, followed by `length` value bytes,
 * written with `seq`), and an ordered view for ranges kept lazily. Records cross into it
 * once each, on the write path (sealed and applied in one call) and at replay.
 *
 * It also counts the dead bytes of the log (overwritten puts and every delete), which
 * drive compaction. The table is pure computation over memory: it never touches a file.
 */
export class KeyIndex {
  readonly table = new KeyTable(KEY_BYTES_MAX, VALUE_BYTES_MAX);
  /** The fields of the last key `find` found. */
  readonly found = new Float64Array(ENTRY_FIELDS);
  #scratch = Buffer.allocUnsafe(256);

  get size(): number {
    return this.table.size;
  }

  get deadBytes(): number {
    return this.table.deadBytes;
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

  /** Looks `key` up; when present its fields are in `found` (position, length, seq, key CRC, key length, in the previous log). */
  find(key: KeyBytes): boolean {
    if (typeof key !== 'string') return this.table.find(key, key.length, this.found) >= 0;
    if (key.length > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(key.length, this.#scratch.length * 2));
    this.#scratch.write(key, 0, key.length, 'latin1');
    return this.table.find(this.#scratch, key.length, this.found) >= 0;
  }
}
