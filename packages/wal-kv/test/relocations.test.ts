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
  it('hands every move to the index once, in order, across many chunks, including one larger than a chunk', async () => {
    const relocations = new Relocations();
    const expected: Array<[number, number, number]> = [];
    const count = 50_000;
    // Runs of 7,000 moves written straight into the chunk `room` gives (as the index
    // writes a record's moves), one run of 20,000, and single moves between them.
    for (let first = 0; first < count; ) {
      const run = first === 14_001 ? 20_000 : Math.min(7000, count - first);
      const chunk = relocations.room(run);
      for (let i = 0; i < run; i++) {
        const move = first + i;
        chunk.slots[chunk.length + i] = move * 3;
        chunk.from[chunk.length + i] = move * 10;
        chunk.to[chunk.length + i] = 1_000_000 + move;
        expected.push([move * 3, move * 10, 1_000_000 + move]);
      }
      relocations.added(run);
      first += run;
      if (first < count) {
        relocations.add(first * 3, first * 10, 1_000_000 + first);
        expected.push([first * 3, first * 10, 1_000_000 + first]);
        first++;
      }
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
