import { describe, expect, it } from 'vitest';
import { isAligned } from '@keel/native';
import { allocAlignedBuffer } from '../src/index.js';

describe('allocAlignedBuffer', () => {
  it('returns zeroed memory whose first byte is aligned', () => {
    for (const alignment of [512, 4096, 65536]) {
      const buffer = allocAlignedBuffer(10_000, alignment);
      expect(buffer.length).toBe(10_000);
      expect(buffer.every((byte) => byte === 0)).toBe(true);
      // The address is not visible to JS; the addon reads it.
      expect(isAligned(buffer, alignment)).toBe(true);
    }
  });

  it('refuses a non-power-of-two alignment', () => {
    expect(() => allocAlignedBuffer(16, 3000)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
  });
});
