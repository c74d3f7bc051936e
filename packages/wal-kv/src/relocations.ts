import type { KeyTable } from '@keel/core';
import type { SliceClock } from './slices.js';

/** Moves per chunk, and per native call when they are applied: about a millisecond of work. */
const CHUNK_MOVES = 16_384;

/** A chunk of moves: slots, and where each value was and is now; the first `length` are taken. */
export interface Chunk {
  readonly slots: Uint32Array;
  readonly from: Float64Array;
  readonly to: Float64Array;
  length: number;
}

/**
 * The index moves a compaction owes: slot, the log position its value was copied from
 * (in the old log) and the one it was copied to (in the new log). They are applied after
 * the switch, in slices, each only while the slot still holds the value at its place in
 * the old log: a key written or removed since is left as it is. Until then the index
 * says, per key, which of the two logs holds its value (`KeyTable.switchLog`).
 *
 * Kept in chunks of CHUNK_MOVES (larger only for a record with more puts than that):
 * with millions of keys, one array grown by doubling would mean allocating and copying
 * a hundred megabytes or more in a single step. The index writes a record's moves
 * straight into a chunk (`KeyTable.copyLivePuts`): `room`, then `added`.
 */
export class Relocations {
  readonly #chunks: Chunk[] = [];
  count = 0;

  add(slot: number, from: number, to: number): void {
    const chunk = this.room(1);
    chunk.slots[chunk.length] = slot;
    chunk.from[chunk.length] = from;
    chunk.to[chunk.length] = to;
    this.added(1);
  }

  /** The chunk the next moves go into, with room for at least `moves` more. */
  room(moves: number): Chunk {
    const last = this.#chunks[this.#chunks.length - 1];
    if (last !== undefined && last.slots.length - last.length >= moves) return last;
    const size = Math.max(CHUNK_MOVES, moves);
    const chunk = { slots: new Uint32Array(size), from: new Float64Array(size), to: new Float64Array(size), length: 0 };
    this.#chunks.push(chunk);
    return chunk;
  }

  /** Counts `moves` moves written into the chunk `room` returned last. */
  added(moves: number): void {
    this.#chunks[this.#chunks.length - 1]!.length += moves;
    this.count += moves;
  }

  /** Moves every entry still where it was copied from, a chunk per native call, a slice at a time; resolves to how many moved. */
  async apply(table: KeyTable, clock: SliceClock): Promise<number> {
    let moved = 0;
    for (const chunk of this.#chunks) {
      const length = chunk.length;
      moved += table.relocate(chunk.slots.subarray(0, length), chunk.from.subarray(0, length), chunk.to.subarray(0, length));
      if (clock.due(length)) await clock.pause();
    }
    return moved;
  }
}
