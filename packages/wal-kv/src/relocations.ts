import type { KeyTable } from '@keel/core';
import type { SliceClock } from './slices.js';

/** Moves per chunk, and per native call when they are applied: about a millisecond of work. */
const CHUNK_MOVES = 16_384;

/** A chunk of moves: slots, and where each value was and is now. */
interface Chunk {
  slots: Uint32Array;
  from: Float64Array;
  to: Float64Array;
}

/**
 * The index moves a compaction owes: slot, the log position its value was copied from
 * (in the old log) and the one it was copied to (in the new log). They are applied after
 * the switch, in slices, each only while the slot still holds the value at its place in
 * the old log: a key written or removed since is left as it is. Until then the index
 * says, per key, which of the two logs holds its value (`KeyTable.switchLog`).
 *
 * Kept in fixed-size chunks: with millions of keys, one array grown by doubling would
 * mean allocating and copying a hundred megabytes or more in a single step.
 */
export class Relocations {
  readonly #chunks: Chunk[] = [];
  count = 0;

  add(slot: number, from: number, to: number): void {
    const at = this.count % CHUNK_MOVES;
    if (at === 0) this.#chunks.push({ slots: new Uint32Array(CHUNK_MOVES), from: new Float64Array(CHUNK_MOVES), to: new Float64Array(CHUNK_MOVES) });
    const chunk = this.#chunks[this.#chunks.length - 1]!;
    chunk.slots[at] = slot;
    chunk.from[at] = from;
    chunk.to[at] = to;
    this.count++;
  }

  /** Adds `delta` to the targets from move `first` on (their frame's place became known). */
  offsetFrom(first: number, delta: number): void {
    for (let i = first; i < this.count; i++) {
      const to = this.#chunks[Math.floor(i / CHUNK_MOVES)]!.to;
      to[i % CHUNK_MOVES] = to[i % CHUNK_MOVES]! + delta;
    }
  }

  /** Moves every entry still where it was copied from, a chunk per native call, a slice at a time; resolves to how many moved. */
  async apply(table: KeyTable, clock: SliceClock): Promise<number> {
    let moved = 0;
    for (let index = 0; index < this.#chunks.length; index++) {
      const chunk = this.#chunks[index]!;
      const length = Math.min(CHUNK_MOVES, this.count - index * CHUNK_MOVES);
      moved += table.relocate(chunk.slots.subarray(0, length), chunk.from.subarray(0, length), chunk.to.subarray(0, length));
      if (clock.due(length)) await clock.pause();
    }
    return moved;
  }
}
