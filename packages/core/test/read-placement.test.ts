import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAligned } from '@keel/native';
import { PAGE_BYTES, PLACED_READ_BYTES_MIN, allocReadBuffer, allocReadMemory, pageOffsetOf, placedView } from '../src/index.js';
import { isPlacedFor } from './placement.js';

describe('read placement', () => {
  it('places a view of page-aligned memory at the page offset of any position', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 1, max: 70_000 }), (position, length) => {
        const memory = allocReadMemory(PAGE_BYTES + length);
        const view = placedView(memory, position, length);
        expect(view.length).toBe(length);
        expect(view.byteOffset).toBe(pageOffsetOf(position));
        expect(isPlacedFor(view, position)).toBe(true);
      }),
      { numRuns: 50 },
    );
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

  it('maps large memory zero-filled and page-aligned', () => {
    const memory = new Uint8Array(allocReadMemory(4 << 20));
    expect(memory.length).toBe(4 << 20);
    expect(isAligned(memory, PAGE_BYTES)).toBe(true);
    expect(memory.every((byte) => byte === 0)).toBe(true);
  });
});
