import { Buffer } from 'node:buffer';
import { verifiedValueRun } from '@keel/core';
import { ENTRY_FIELDS } from './key-index.js';
import { MAP_SEGMENT_BYTES, VALUE_RUN_BYTES_MAX } from './limits.js';
import type { StoreState } from './wal-kv.js';

/**
 * The values of one batch of a range walk, read right after the batch was fetched from
 * the index, in one native call: verified against their CRC-32C in the current log's
 * mappings and copied back to back into one buffer, of which each value is a view (one
 * allocation per batch, not per value). The bytes are those the entries pointed at when
 * fetched: the log is append-only, so reading them now or when the entry is handed out
 * gives the same bytes. A value not read here (in the log before a compaction's switch,
 * in the write buffer, in an unmapped segment, past VALUE_RUN_BYTES_MAX, or failing its
 * CRC) is read on its own when handed out, which reports a failure then, as before.
 */
export class ValueRun {
  readonly #state: StoreState;
  readonly #done: Uint8Array;
  #values: Buffer = Buffer.alloc(0);

  constructor(state: StoreState, entries: number) {
    this.#state = state;
    this.#done = new Uint8Array(entries);
  }

  /** Reads the values of the first `count` entries of `fields` (as `KeyTable.range` wrote them just now). */
  read(fields: Float64Array, count: number): void {
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += fields[i * ENTRY_FIELDS + 1]!;
    // A kept value holds on to its batch's buffer: bounded, so that one kept value cannot pin much.
    this.#values = Buffer.allocUnsafe(Math.min(bytes, VALUE_RUN_BYTES_MAX));
    verifiedValueRun(this.#state.writer.mappedSegments, MAP_SEGMENT_BYTES, fields, count, this.#values, this.#done);
  }

  /** The verified value of entry `i` of the batch, which starts `offset` bytes into it, or undefined when it was not read here. */
  value(i: number, offset: number, length: number): Buffer | undefined {
    return this.#done[i] === 1 ? this.#values.subarray(offset, offset + length) : undefined;
  }
}
