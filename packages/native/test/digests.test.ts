import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { md5, sha256 } from '../src/index.js';

const DIGESTS = { md5, sha256 } as const;

describe('md5 and sha256', () => {
  it('match the published test vectors', async () => {
    expect(await md5(new Uint8Array(0))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(await md5(Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await sha256(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  for (const [name, digest] of Object.entries(DIGESTS)) {
    it(`${name} agrees with node:crypto on any bytes, including subarray views`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.nat(16), async (bytes, skip) => {
          const view = bytes.subarray(Math.min(skip, bytes.length));
          expect(await digest(view)).toBe(createHash(name).update(view).digest('hex'));
        }),
        { numRuns: 200 },
      );
    });

    it(`${name} hashes a multi-megabyte buffer asynchronously`, async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 7);
      const pending = digest(big);
      expect(pending).toBeInstanceOf(Promise);
      expect(await pending).toBe(createHash(name).update(big).digest('hex'));
    });

    it(`${name} refuses what is not bytes`, () => {
      expect(() => digest('abc' as unknown as Uint8Array)).toThrow();
    });
  }
});
