import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_SCAN_STOP, crc32c, decodeScan, scanFrames, sealFrames } from '../src/index.js';

const MAGIC = 0x4653_5901;

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, false);
  view.setUint32(4, payload.length, true);
  out.set(payload, 8);
  view.setUint32(8 + payload.length, crc32c(out.subarray(0, 8 + payload.length)), true);
  return out;
}

function scan(chunk: Uint8Array, payloadMax = 1024) {
  const ends = new Uint32Array(16);
  const { count, stop } = decodeScan(scanFrames(chunk, MAGIC, payloadMax, ends));
  return { ends: [...ends.subarray(0, count)], stop };
}

describe('scanFrames', () => {
  const a = frame(new Uint8Array([1, 2, 3]));
  const b = frame(new Uint8Array(0));

  it('returns the end of every whole frame and stops at the end', () => {
    expect(scan(new Uint8Array([...a, ...b]))).toEqual({ ends: [15, 27], stop: FRAME_SCAN_STOP.end });
  });

  it('says why it stopped', () => {
    expect(scan(new Uint8Array([...a, ...b.subarray(0, 5)])).stop).toBe(FRAME_SCAN_STOP.partialHeader);
    expect(scan(new Uint8Array([...a, ...a.subarray(0, 10)])).stop).toBe(FRAME_SCAN_STOP.partialPayload);
    expect(scan(new Uint8Array([...a, 0, 0, 0, 0, 0, 0, 0, 0])).stop).toBe(FRAME_SCAN_STOP.badMagic);
    expect(scan(a, 2).stop).toBe(FRAME_SCAN_STOP.lengthOverflow);
    const flipped = a.slice();
    flipped[9]! ^= 1;
    expect(scan(flipped)).toEqual({ ends: [], stop: FRAME_SCAN_STOP.checksumMismatch });
  });

  it('stops when the output is full', () => {
    const many = new Uint8Array(b.length * 20);
    for (let i = 0; i < 20; i++) many.set(b, i * b.length);
    const result = scan(many);
    expect(result.ends).toHaveLength(16);
    expect(result.stop).toBe(FRAME_SCAN_STOP.full);
  });
});

describe('sealFrames', () => {
  it('fills in the CRC of every frame so that scanFrames accepts them all', () => {
    const frames = [frame(new Uint8Array([1, 2, 3])), frame(new Uint8Array(0)), frame(new Uint8Array(40).fill(9))];
    const region = new Uint8Array(frames.reduce((total, f) => total + f.length, 0));
    let position = 0;
    for (const f of frames) {
      region.set(f, position);
      region.fill(0, position + f.length - 4, position + f.length); // blank the CRC slot
      position += f.length;
    }
    expect(sealFrames(region)).toBe(3);
    expect(region).toEqual(new Uint8Array(frames.flatMap((f) => [...f])));
  });

  it('gives every frame of any run the CRC crc32c gives it alone (frames sealed three at a time, any lengths)', () => {
    const payload = fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 8 }, { arbitrary: fc.uint8Array({ minLength: 4000, maxLength: 9000 }), weight: 1 });
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 12 }), (payloads) => {
        const frames = payloads.map(frame);
        const region = new Uint8Array(frames.reduce((total, f) => total + f.length, 0));
        let position = 0;
        for (const f of frames) {
          region.set(f, position);
          region.fill(0, position + f.length - 4, position + f.length);
          position += f.length;
        }
        expect(sealFrames(region)).toBe(frames.length);
        expect(region).toEqual(new Uint8Array(frames.flatMap((f) => [...f])));
      }),
    );
  });

  it('refuses lengths that do not tile the region', () => {
    const region = frame(new Uint8Array(10)).slice();
    region[4] = 200; // announces more payload than the region holds
    expect(() => sealFrames(region)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => sealFrames(new Uint8Array(5))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
