import { crc32c, encodeFrame } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { framesHaveValidCrcs } from '../src/crc-combine.js';
import { RECORD_FORMAT } from '../src/format.js';

function run(payloads: Uint8Array[]): { bytes: Uint8Array; ends: number[] } {
  const frames = payloads.map((payload) => encodeFrame(payload, RECORD_FORMAT));
  const bytes = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  const ends: number[] = [];
  let at = 0;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
    ends.push(at);
  }
  return { bytes, ends };
}

describe('checking a run of frames with one CRC', () => {
  it('accepts exactly the runs whose every frame checks out on its own', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (payloads, where, flip) => {
        const { bytes, ends } = run(payloads);
        expect(framesHaveValidCrcs(bytes, 0, ends)).toBe(true);
        const position = where % bytes.length;
        bytes[position] = (bytes[position] as number) ^ flip;
        // A flipped byte breaks its frame's own CRC, and the run's.
        let start = 0;
        const perFrame = ends.every((end) => {
          const frame = bytes.subarray(start, end);
          start = end;
          return crc32c(frame.subarray(0, frame.length - 4)) === new DataView(frame.buffer, frame.byteOffset + frame.length - 4).getUint32(0, true);
        });
        expect(perFrame).toBe(false);
        expect(framesHaveValidCrcs(bytes, 0, ends)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
