import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_BYTES_MAX, PAYLOAD_REF_ENCODED_BYTES, PayloadRef, SEGMENT_HEADER_BYTES } from '../src/index.js';
import { codeOf } from './helpers.js';

const refArbitrary = fc.record({
  segment: fc.integer({ min: 1, max: 0xffff_ffff }),
  offset: fc.integer({ min: SEGMENT_HEADER_BYTES, max: Number.MAX_SAFE_INTEGER }),
  length: fc.integer({ min: 0, max: PAYLOAD_BYTES_MAX }),
});

describe('PayloadRef', () => {
  it('decode(encode(ref)) is ref, and keys are equal exactly when refs are', () => {
    fc.assert(
      fc.property(refArbitrary, refArbitrary, (ref, other) => {
        const encoded = PayloadRef.encode(ref);
        expect(encoded).toHaveLength(PAYLOAD_REF_ENCODED_BYTES);
        expect(PayloadRef.decode(encoded)).toEqual(ref);
        expect(PayloadRef.key(ref) === PayloadRef.key(other)).toBe(PayloadRef.equals(ref, other));
      }),
    );
  });

  it('decodes any bytes either to a ref that encodes back to them or to KEEL_BAD_ARGUMENT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 24 }), async (garbage) => {
        let decoded: PayloadRef | undefined;
        const code = await codeOf(() => {
          decoded = PayloadRef.decode(garbage);
        });
        if (code === 'no error') expect(PayloadRef.encode(decoded as PayloadRef)).toEqual(garbage);
        else expect(code).toBe('KEEL_BAD_ARGUMENT');
      }),
    );
  });

  it('refuses malformed refs and encodings with KEEL_BAD_ARGUMENT', async () => {
    const valid = PayloadRef.encode({ segment: 1, offset: SEGMENT_HEADER_BYTES, length: 3 });
    const badVersion = valid.slice();
    badVersion[0] = 9;
    const hugeOffset = valid.slice();
    hugeOffset.fill(0xff, 5, 13);
    for (const encoded of [new Uint8Array(3), badVersion, hugeOffset, 'text' as unknown as Uint8Array]) {
      expect(await codeOf(() => PayloadRef.decode(encoded))).toBe('KEEL_BAD_ARGUMENT');
    }
    // The largest offset that is still a safe integer decodes; one past it is refused, never rounded.
    const boundary = valid.slice();
    new DataView(boundary.buffer).setBigUint64(5, BigInt(Number.MAX_SAFE_INTEGER), true);
    expect(PayloadRef.decode(boundary).offset).toBe(Number.MAX_SAFE_INTEGER);
    new DataView(boundary.buffer).setBigUint64(5, BigInt(Number.MAX_SAFE_INTEGER) + 1n, true);
    expect(await codeOf(() => PayloadRef.decode(boundary))).toBe('KEEL_BAD_ARGUMENT');
    const malformed = [null, {}, { segment: 0, offset: SEGMENT_HEADER_BYTES, length: 1 }, { segment: 1, offset: SEGMENT_HEADER_BYTES - 1, length: 1 }, { segment: 1, offset: SEGMENT_HEADER_BYTES, length: -1 }, { segment: 1.5, offset: SEGMENT_HEADER_BYTES, length: 1 }];
    for (const ref of malformed) expect(await codeOf(() => PayloadRef.encode(ref as unknown as PayloadRef))).toBe('KEEL_BAD_ARGUMENT');
  });
});
