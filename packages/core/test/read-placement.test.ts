import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_BYTES, PLACED_READ_BYTES_MIN, allocReadBuffer, allocReadMemory, placedBytes, placedIndex, placedView } from '../src/index.js';
import { isPlacedFor } from './placement.js';

describe('read placement', () => {
  it('places a view of any memory with a page of slack at the page offset of any position', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 1, max: 70_000 }), fc.nat(PAGE_BYTES * 2), (position, length, skew) => {
        // Memory at every offset from a page boundary, not only where the allocator puts it.
        expect(allocReadMemory(length).length).toBe(placedBytes(length));
        const memory = allocReadMemory(length + skew).subarray(skew);
        const view = placedView(memory, position, length);
        expect(view.length).toBe(length);
        expect(view.buffer).toBe(memory.buffer);
        expect(view.byteOffset - memory.byteOffset).toBeLessThan(PAGE_BYTES);
        expect(isPlacedFor(view, position)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('finds the placed index at or after a given one, within a page of it', () => {
    const memory = allocReadMemory(3 * PAGE_BYTES);
    for (const from of [0, 1, 100, PAGE_BYTES, PAGE_BYTES + 7]) {
      for (const position of [0, 40, 4095, 4096 * 1000 + 17]) {
        const index = placedIndex(memory, from, position);
        expect(index).toBeGreaterThanOrEqual(from);
        expect(index).toBeLessThan(from + PAGE_BYTES);
        expect(isPlacedFor(memory.subarray(index), position)).toBe(true);
      }
    }
  });

  it('gives a large read memory of its own, placed, and a small one plain memory', () => {
    for (const position of [0, 17, 4095, 4096 * 9 + 40]) {
      const large = allocReadBuffer(PLACED_READ_BYTES_MIN, position);
      expect(large.length).toBe(PLACED_READ_BYTES_MIN);
      expect(isPlacedFor(large, position)).toBe(true);
      const small = allocReadBuffer(100, position);
      expect(small.length).toBe(100);
      expect(small.buffer).not.toBe(large.buffer);
    }
  });
});
