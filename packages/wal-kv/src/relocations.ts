import type { KeyTable } from '@keel/core';
import type { SliceClock } from './slices.js';

/** Moves per native call: about a millisecond of work. */
const MOVES_PER_CALL = 16_384;

/**
 * The index moves a compaction owes: slot, the log position its value was copied from
 * (in the old log) and the one it was copied to (in the new log). They are applied after
 * the switch, in slices, each only while the slot still holds the value at its place in
 * the old log: a key written or removed since is left as it is. Until then the index
 * says, per key, which of the two logs holds its value (`KeyTable.switchLog`).
 */
export class Relocations {
  #slots: Uint32Array;
  #from: Float64Array;
  #to: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.#slots = new Uint32Array(Math.max(capacity, 1024));
    this.#from = new Float64Array(this.#slots.length);
    this.#to = new Float64Array(this.#slots.length);
  }

  add(slot: number, from: number, to: number): void {
    if (this.count === this.#slots.length) this.#grow();
    this.#slots[this.count] = slot;
    this.#from[this.count] = from;
    this.#to[this.count] = to;
    this.count++;
  }

  /** Adds `delta` to the targets from move `first` on (their frame's place became known). */
  offsetFrom(first: number, delta: number): void {
    for (let i = first; i < this.count; i++) this.#to[i] = this.#to[i]! + delta;
  }

  /** Moves every entry still where it was copied from, a slice at a time; resolves to how many moved. */
  async apply(table: KeyTable, clock: SliceClock): Promise<number> {
    let moved = 0;
    for (let start = 0; start < this.count; start += MOVES_PER_CALL) {
      const end = Math.min(start + MOVES_PER_CALL, this.count);
      moved += table.relocate(this.#slots.subarray(start, end), this.#from.subarray(start, end), this.#to.subarray(start, end));
      if (clock.due(end - start)) await clock.pause();
    }
    return moved;
  }

  #grow(): void {
    const capacity = this.#slots.length * 2;
    const slots = new Uint32Array(capacity);
    const from = new Float64Array(capacity);
    const to = new Float64Array(capacity);
    slots.set(this.#slots);
    from.set(this.#from);
    to.set(this.#to);
    [this.#slots, this.#from, this.#to] = [slots, from, to];
  }
}
