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

/** What scanFrames must return, checking one frame at a time in order (the layout of `frame`). */
function referenceScan(chunk: Uint8Array, payloadMax: number, slots: number): { ends: number[]; stop: number } {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const magic = [MAGIC >>> 24, (MAGIC >>> 16) & 0xff, (MAGIC >>> 8) & 0xff, MAGIC & 0xff];
  const ends: number[] = [];
  let position = 0;
  for (;;) {
    const available = chunk.length - position;
    if (available === 0) return { ends, stop: FRAME_SCAN_STOP.end };
    if (ends.length === slots) return { ends, stop: FRAME_SCAN_STOP.full };
    for (let index = 0; index < Math.min(4, available); index++) {
      if (chunk[position + index] !== magic[index]) return { ends, stop: FRAME_SCAN_STOP.badMagic };
    }
    if (available < 8) return { ends, stop: FRAME_SCAN_STOP.partialHeader };
    const length = view.getUint32(position + 4, true);
    if (length > payloadMax) return { ends, stop: FRAME_SCAN_STOP.lengthOverflow };
    if (available < length + 12) return { ends, stop: FRAME_SCAN_STOP.partialPayload };
    const crcAt = position + 8 + length;
    if (crc32c(chunk.subarray(position, crcAt)) !== view.getUint32(crcAt, true)) return { ends, stop: FRAME_SCAN_STOP.checksumMismatch };
    position = crcAt + 4;
    ends.push(position);
  }
}

describe('scanFrames against a frame-by-frame reference', () => {
  it('finds the same frames and the same stop for any run, damaged anywhere or cut short (CRCs are checked three frames at a time)', () => {
    const run = fc.record({
      payloads: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      flips: fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), { maxLength: 2 }),
      cut: fc.option(fc.nat()),
      payloadMax: fc.constantFrom(1024, 200),
      slots: fc.integer({ min: 0, max: 16 }),
    });
    fc.assert(
      fc.property(run, ({ payloads, flips, cut, payloadMax, slots }) => {
        const frames = payloads.map(frame);
        let chunk = new Uint8Array(frames.flatMap((f) => [...f]));
        for (const { at, bit } of flips) if (chunk.length > 0) chunk[at % chunk.length]! ^= 1 << bit;
        if (cut !== null) chunk = chunk.subarray(0, cut % (chunk.length + 1));
        const ends = new Uint32Array(slots);
        const { count, stop } = decodeScan(scanFrames(chunk, MAGIC, payloadMax, ends));
        expect({ ends: [...ends.subarray(0, count)], stop }).toEqual(referenceScan(chunk, payloadMax, slots));
      }),
      { numRuns: 2000 },
    );
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

  it('seals any run of frames as one CRC-32C per frame would (three at a time, and the rest)', () => {
    const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });
    fc.assert(
      fc.property(payloads, (list) => {
        const frames = list.map(frame);
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
