import { PAGE_BYTES, pageOffsetOfView } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { WriteBuffer } from '../src/write-buffer.js';

it('places every run as far into a page of memory as its file position sits into a page, with its view over the same bytes', () => {
  const buffer = new WriteBuffer();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 4, max: 3 * 1024 * 1024 }), fc.nat(2 ** 40)), { minLength: 1, maxLength: 12 }), (runs) => {
      for (const [length, position] of runs) {
        const bytes = buffer.reserve(length, position);
        expect(bytes.length).toBeGreaterThanOrEqual(length);
        expect(pageOffsetOfView(bytes)).toBe(position % PAGE_BYTES);
        expect([buffer.view.buffer, buffer.view.byteOffset, buffer.view.byteLength]).toEqual([bytes.buffer, bytes.byteOffset, bytes.byteLength]);
        // What the encoder writes through the view is what the write hands over.
        buffer.view.setUint32(0, 0xdeadbeef, true);
        expect([...bytes.subarray(0, 4)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
        buffer.release();
      }
    }),
    { numRuns: 50 },
  );
});

it('keeps its memory from run to run up to 1 MiB, and lets a larger one go after its write', () => {
  const buffer = new WriteBuffer();
  const kept = buffer.reserve(100_000, 40);
  buffer.release();
  expect(buffer.reserve(100_000, 40 + PAGE_BYTES).buffer).toBe(kept.buffer);
  expect(buffer.reserve(50_000, 7).buffer).toBe(kept.buffer);
  const large = buffer.reserve(4 * 1024 * 1024, 0);
  expect(large.buffer).not.toBe(kept.buffer);
  buffer.release();
  expect(buffer.reserve(10, 0).buffer).not.toBe(large.buffer);
});
