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

/** Payload lengths around the lanes' edges: empty, under a word, about the inline tail limit, and longer. */
const payloadArbitrary = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ minLength: 56, maxLength: 80 }),
  fc.uint8Array({ maxLength: 300 }),
);

/** Lengths a damaged header may announce: small, near the bounds, and near u32 max (where `length + 12` overflows 32 bits). */
const announcedArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 400 }),
  fc.constantFrom(0xffff_ffff, 0xffff_fff4, 0xffff_fff3, 0x8000_0000, 2 ** 28 - 1, 2 ** 28),
  fc.nat({ max: 0xffff_ffff }),
);

/**
 * Damage to a run of frames. `length` rewrites a frame's length and, with `reseal`, writes
 * the CRC of the new extent where it fits, so that the frame is whole again at another
 * size (over its successors' bytes): the scan must then accept it and go on from its new end.
 */
const damageArbitrary = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('length' as const), frame: fc.nat(), length: announcedArbitrary, reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('magic' as const), frame: fc.nat(), byte: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('crc' as const), frame: fc.nat() }),
);
type Damage = typeof damageArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** How the run ends: as written, cut anywhere, followed by garbage, or by the start of one more frame. */
const endingArbitrary = fc.oneof(
  fc.record({ kind: fc.constant('whole' as const) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('started' as const), bytes: fc.integer({ min: 1, max: 11 }), length: announcedArbitrary }),
);
type Ending = typeof endingArbitrary extends fc.Arbitrary<infer T> ? T : never;

function damage(chunk: Uint8Array, starts: readonly number[], change: Damage): void {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (change.kind === 'flip') {
    if (chunk.length > 0) chunk[change.at % chunk.length]! ^= 1 << change.bit;
    return;
  }
  if (starts.length === 0) return;
  const start = starts[change.frame % starts.length]!;
  if (change.kind === 'magic') {
    chunk[start + change.byte] = change.value;
  } else if (change.kind === 'crc') {
    const crcAt = start + 8 + view.getUint32(start + 4, true);
    if (crcAt + 4 <= chunk.length) chunk[crcAt]! ^= 0x01;
  } else {
    view.setUint32(start + 4, change.length, true);
    const crcAt = start + 8 + change.length;
    if (change.reseal && crcAt + 4 <= chunk.length) view.setUint32(crcAt, crc32c(chunk.subarray(start, crcAt)), true);
  }
}

function ending(run: Uint8Array, end: Ending): Uint8Array {
  if (end.kind === 'whole') return run;
  if (end.kind === 'cut') return run.subarray(0, end.at % (run.length + 1));
  let tail = end.kind === 'garbage' ? end.bytes : new Uint8Array(12);
  if (end.kind === 'started') {
    new DataView(tail.buffer).setUint32(0, MAGIC, false);
    new DataView(tail.buffer).setUint32(4, end.length, true);
    tail = tail.subarray(0, end.bytes);
  }
  const out = new Uint8Array(run.length + tail.length);
  out.set(run);
  out.set(tail, run.length);
  return out;
}

describe('scanFrames against a frame-by-frame reference, under structured damage', () => {
  it('agrees on every frame and the stop for runs of up to 24 frames with rewritten lengths, magics and CRCs, any ending, bound and alignment', () => {
    const run = fc.record({
      payloads: fc.array(payloadArbitrary, { maxLength: 24 }),
      damages: fc.array(damageArbitrary, { maxLength: 3 }),
      end: endingArbitrary,
      payloadMax: fc.oneof(fc.constantFrom(0, 8, 64, 200, 1024, 0xffff_ffff), fc.integer({ min: 0, max: 400 })),
      slots: fc.integer({ min: 0, max: 26 }),
      shift: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(run, ({ payloads, damages, end, payloadMax, slots, shift }) => {
        const frames = payloads.map(frame);
        const starts: number[] = [];
        let total = 0;
        for (const written of frames) {
          starts.push(total);
          total += written.length;
        }
        const written = new Uint8Array(total);
        for (const [index, one] of frames.entries()) written.set(one, starts[index]);
        for (const change of damages) damage(written, starts, change);
        const ended = ending(written, end);
        // At any alignment: the scan reads its words from wherever the chunk starts.
        const backing = new Uint8Array(ended.length + shift);
        backing.set(ended, shift);
        const chunk = backing.subarray(shift);
        const ends = new Uint32Array(slots).fill(0xdead_beef);
        const { count, stop } = decodeScan(scanFrames(chunk, MAGIC, payloadMax, ends));
        expect({ ends: [...ends.subarray(0, count)], stop }).toEqual(referenceScan(chunk, payloadMax, slots));
        // Nothing past the frames it reports is written.
        expect([...ends.subarray(count)].every((slot) => slot === 0xdead_beef)).toBe(true);
        expect(backing.subarray(shift)).toEqual(ended);
      }),
      { numRuns: 3000 },
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
