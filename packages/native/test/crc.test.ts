import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { crc32, crc32c, verifiedCopy } from '../src/index.js';

const CHECK = new TextEncoder().encode('123456789');

/** Bitwise reference implementations (reflected, init and xorout 0xFFFFFFFF). */
function reference(polynomial: number, data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ polynomial : crc >>> 1;
  }
  return ~crc >>> 0;
}
const CASTAGNOLI = 0x82f63b78;
const IEEE = 0xedb88320;

describe('crc32c', () => {
  it('matches the check values', () => {
    expect(crc32c(CHECK)).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  it('returns unsigned numbers and honours subarray views', () => {
    const backing = Buffer.from('xx123456789yy');
    expect(crc32c(backing.subarray(2, 11))).toBe(0xe3069283);
    expect(crc32c(CHECK)).toBeGreaterThan(0x7fffffff);
  });

  it('running seed: crc(a ++ b) === crc(b, crc(a))', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const joined = new Uint8Array([...a, ...b]);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(joined));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with a bitwise reference on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 0xffffffff }), (data, seed) => {
        expect(crc32c(data, seed)).toBe(reference(CASTAGNOLI, data, seed));
      }),
      { numRuns: 300 },
    );
  });
});

describe('crc32', () => {
  it('matches the check value', () => {
    expect(crc32(CHECK)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('running seed: crc(a ++ b) === crc(b, crc(a))', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const joined = new Uint8Array([...a, ...b]);
        expect(crc32(b, crc32(a))).toBe(crc32(joined));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with a bitwise reference on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 0xffffffff }), (data, seed) => {
        expect(crc32(data, seed)).toBe(reference(IEEE, data, seed));
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifiedCopy', () => {
  it('copies a value whose stored CRC-32C (seeded) matches, and copies nothing when one byte differs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(40), fc.nat(), (value, seed, at, flip) => {
        const data = Buffer.alloc(at + 4 + value.length + 3, 0xee);
        data.writeUInt32LE(crc32c(value, seed), at);
        data.set(value, at + 4);
        const into = Buffer.alloc(value.length + 2, 0x11);
        expect(verifiedCopy(data, at, value.length, seed, into)).toBe(true);
        expect(into.subarray(0, value.length)).toEqual(Buffer.from(value));
        if (value.length === 0) return;
        data[at + 4 + (flip % value.length)]! ^= 0x01;
        const untouched = Buffer.alloc(value.length, 0x22);
        expect(verifiedCopy(data, at, value.length, seed, untouched)).toBe(false);
        expect(untouched).toEqual(Buffer.alloc(value.length, 0x22));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bounds past the data or the destination', () => {
    const data = Buffer.alloc(10);
    expect(() => verifiedCopy(data, 4, 3, 0, Buffer.alloc(3))).toThrow(/past the end/);
    expect(() => verifiedCopy(data, 0, 6, 0, Buffer.alloc(5))).toThrow(/shorter/);
    expect(() => verifiedCopy(data, 0xffffffff, 1, 0, Buffer.alloc(1))).toThrow(/past the end/);
  });
});
