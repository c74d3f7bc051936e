import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32c, crc32cReference, crc32Reference } from '../src/index.js';

const CHECK_INPUT = new TextEncoder().encode('123456789');

describe('crc', () => {
  it('matches the published check values', () => {
    expect(crc32c(CHECK_INPUT)).toBe(0xe3069283);
    expect(crc32(CHECK_INPUT)).toBe(0xcbf43926);
    expect(crc32cReference(CHECK_INPUT)).toBe(0xe3069283);
    expect(crc32Reference(CHECK_INPUT)).toBe(0xcbf43926);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('native equals the TypeScript reference for any bytes and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.nat({ max: 0xffff_ffff }), (data, seed) => {
        expect(crc32c(data, seed)).toBe(crc32cReference(data, seed));
        expect(crc32(data, seed)).toBe(crc32Reference(data, seed));
      }),
      { numRuns: 500 },
    );
  });

  it('a running CRC over two parts equals the CRC of the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 2048 }), (a, b) => {
        const whole = new Uint8Array(a.length + b.length);
        whole.set(a);
        whole.set(b, a.length);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(whole));
        expect(crc32(b, crc32(a))).toBe(crc32(whole));
      }),
      { numRuns: 300 },
    );
  });
});
