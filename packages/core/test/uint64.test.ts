import { describe, expect, it } from 'vitest';
import { UINT64_NUMBER_MAX, getSafeUint64, readUint64, writeUint64 } from '../src/index.js';

describe('u64 ↔ number', () => {
  it('round-trips every value up to 2^53 − 1', () => {
    const view = new DataView(new ArrayBuffer(8));
    for (const value of [0, 1, 2 ** 32, 2 ** 32 + 7, UINT64_NUMBER_MAX]) {
      writeUint64(view, 0, value, 'size');
      expect(readUint64(view, 0, 'size')).toBe(value);
      expect(getSafeUint64(view, 0)).toBe(value);
    }
  });

  it('refuses to read a value above 2^53 − 1 with KEEL_CORRUPT, naming where it was', () => {
    const view = new DataView(new ArrayBuffer(16));
    view.setBigUint64(8, BigInt(UINT64_NUMBER_MAX) + 1n, true);
    expect(getSafeUint64(view, 8)).toBeNull();
    expect(() => readUint64(view, 8, 'size', { path: '/x', offset: 8 })).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT', path: '/x', offset: 8 }));
    view.setBigUint64(8, 2n ** 64n - 1n, true);
    expect(() => readUint64(view, 8, 'size')).toThrow(expect.objectContaining({ code: 'KEEL_CORRUPT' }));
  });

  it('refuses to write what a u64 number cannot hold exactly with KEEL_TOO_LARGE, writing nothing', () => {
    const view = new DataView(new ArrayBuffer(8));
    for (const value of [UINT64_NUMBER_MAX + 1, 2 ** 64, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => writeUint64(view, 0, value, 'size')).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
      expect(view.getBigUint64(0, true)).toBe(0n);
    }
  });
});
