import type { KeyTable } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { Relocations } from '../src/relocations.js';
import { SliceClock } from '../src/slices.js';

/** A stand-in for the index that records the moves handed to it. */
function recordingTable(): { table: KeyTable; moves: Array<[number, number, number]> } {
  const moves: Array<[number, number, number]> = [];
  const table = {
    relocate(slots: Uint32Array, from: Float64Array, to: Float64Array): number {
      for (let i = 0; i < slots.length; i++) moves.push([slots[i]!, from[i]!, to[i]!]);
      return slots.length;
    },
  } as unknown as KeyTable;
  return { table, moves };
}

describe('Relocations', () => {
  it('hands every move to the index once, in order, across many chunks, with frame offsets applied across chunk boundaries', async () => {
    const relocations = new Relocations();
    const expected: Array<[number, number, number]> = [];
    const count = 50_000;
    // Frames of 7,000 moves each: their targets start relative and get the frame's offset.
    for (let first = 0; first < count; first += 7000) {
      const last = Math.min(first + 7000, count);
      for (let i = first; i < last; i++) relocations.add(i * 3, i * 10, i - first);
      relocations.offsetFrom(first, 1_000_000 + first);
      for (let i = first; i < last; i++) expected.push([i * 3, i * 10, 1_000_000 + first + (i - first)]);
    }
    expect(relocations.count).toBe(count);
    const { table, moves } = recordingTable();
    expect(await relocations.apply(table, new SliceClock(() => null))).toBe(count);
    expect(moves).toEqual(expected);
  });

  it('applies nothing when there is nothing to move', async () => {
    const { table, moves } = recordingTable();
    expect(await new Relocations().apply(table, new SliceClock(() => null))).toBe(0);
    expect(moves).toEqual([]);
  });
});
