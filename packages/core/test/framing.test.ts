import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_OVERHEAD_BYTES,
  FSYS_FRAME_FORMAT,
  FrameScanner,
  KeelError,
  checkFrameAt,
  decodeFrame,
  defineFrameFormat,
  encodeFrame,
  encodeFrames,
  encodeFramesInto,
  findNextValidFrame,
  searchNextValidFrame,
  FRAME_SEARCH_CHECK_BYTES_MIN,
  FRAME_SEARCH_CHECK_FACTOR,
  framesEndsCapacity,
  validateFrameRun,
  frameBytes,
  type FrameFormat,
  type FrameSource,
} from '../src/index.js';

/** A FrameSource over bytes in memory that counts the largest read it was asked for. */
class MemorySource implements FrameSource {
  largestRead = 0;
  constructor(readonly bytes: Uint8Array) {}
  readSync(into: Uint8Array, position: number): number {
    this.largestRead = Math.max(this.largestRead, into.length);
    const available = Math.max(0, Math.min(into.length, this.bytes.length - position));
    into.set(this.bytes.subarray(position, position + available));
    return available;
  }
  sizeSync(): number {
    return this.bytes.length;
  }
}

function scanAll(bytes: Uint8Array, format: FrameFormat = FSYS_FRAME_FORMAT, chunkBytes = 64) {
  const scanner = new FrameScanner(new MemorySource(bytes), format, { chunkBytes });
  const payloads: Uint8Array[] = [];
  for (const frame of scanner) payloads.push(frame.payload.slice());
  return { payloads, tailState: scanner.tailState, validBytes: scanner.validBytes };
}

const payloadsArbitrary = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });

describe('framing', () => {
  it('writes the fsys 0.9 layout byte for byte', () => {
    const frame = encodeFrame(new Uint8Array([0xaa, 0xbb]), FSYS_FRAME_FORMAT);
    expect([...frame.subarray(0, 8)]).toEqual([0x46, 0x53, 0x59, 0x01, 2, 0, 0, 0]);
    expect([...frame.subarray(8, 10)]).toEqual([0xaa, 0xbb]);
    expect(frame.length).toBe(2 + FRAME_OVERHEAD_BYTES);
  });

  it('round-trips any sequence of payloads, including empty ones', () => {
    fc.assert(
      fc.property(payloadsArbitrary, fc.integer({ min: 12, max: 512 }), (payloads, chunkBytes) => {
        const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT);
        const scanned = scanAll(stream, FSYS_FRAME_FORMAT, chunkBytes);
        expect(scanned.tailState).toBe('clean-end');
        expect(scanned.validBytes).toBe(stream.length);
        expect(scanned.payloads).toEqual(payloads);
        for (const payload of payloads) expect(decodeFrame(encodeFrame(payload, FSYS_FRAME_FORMAT), FSYS_FRAME_FORMAT)).toEqual(payload);
      }),
    );
  });

  it('every truncation stops at the last whole frame with the right state', () => {
    fc.assert(
      fc.property(payloadsArbitrary.filter((p) => p.length > 0), fc.nat(), (payloads, cutSeed) => {
        const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT);
        const cut = cutSeed % (stream.length + 1);
        let boundary = 0;
        let whole = 0;
        for (const payload of payloads) {
          if (boundary + frameBytes(payload.length) > cut) break;
          boundary += frameBytes(payload.length);
          whole++;
        }
        const scanned = scanAll(stream.subarray(0, cut));
        expect(scanned.validBytes).toBe(boundary);
        expect(scanned.payloads).toEqual(payloads.slice(0, whole));
        const rest = cut - boundary;
        const expected = rest === 0 ? 'clean-end' : rest < 8 ? 'truncated-header' : 'truncated-payload';
        expect(scanned.tailState).toBe(expected);
      }),
    );
  });

  it('detects every single-bit flip anywhere in a stream', () => {
    fc.assert(
      fc.property(payloadsArbitrary.filter((p) => p.length > 0), fc.nat(), (payloads, bitSeed) => {
        const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT);
        const bit = bitSeed % (stream.length * 8);
        const damaged = stream.slice();
        damaged[bit >> 3]! ^= 1 << (bit & 7);
        const scanned = scanAll(damaged);
        // The flipped frame and everything after it is never returned as valid.
        let start = 0;
        let index = 0;
        while (start + frameBytes(payloads[index]!.length) <= bit >> 3) start += frameBytes(payloads[index++]!.length);
        expect(scanned.tailState).not.toBe('clean-end');
        expect(scanned.validBytes).toBe(start);
        expect(scanned.payloads).toEqual(payloads.slice(0, index));
      }),
      { numRuns: 1000 },
    );
  });

  it('reports a length beyond the bound as length-overflow without allocating it', () => {
    const format = defineFrameFormat(0x4b45_4c31, 1024);
    const frame = encodeFrame(new Uint8Array(16), format);
    new DataView(frame.buffer).setUint32(4, 0x0fff_ffff, true);
    const source = new MemorySource(frame);
    const scanner = new FrameScanner(source, format, { chunkBytes: 64 });
    expect(scanner.next()).toBeNull();
    expect(scanner.tailState).toBe('length-overflow');
    expect(source.largestRead).toBeLessThanOrEqual(64);
    expect(checkFrameAt(frame, 0, format)).toEqual({ ok: false, state: 'length-overflow' });
  });

  it('reads frames larger than the scan chunk', () => {
    const payloads = [new Uint8Array(5000).fill(7), new Uint8Array(3), new Uint8Array(70_000).fill(9)];
    const scanned = scanAll(encodeFrames(payloads, FSYS_FRAME_FORMAT), FSYS_FRAME_FORMAT, 128);
    expect(scanned.payloads).toEqual(payloads);
  });

  it('tells bad magic from other damage, and finds valid frames after damage', () => {
    const a = encodeFrame(new Uint8Array([1, 2, 3]), FSYS_FRAME_FORMAT);
    const garbage = new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    const stream = new Uint8Array([...a, ...garbage, ...a]);
    const scanned = scanAll(stream);
    expect(scanned.tailState).toBe('bad-magic');
    expect(scanned.validBytes).toBe(a.length);
    expect(findNextValidFrame(new MemorySource(stream), FSYS_FRAME_FORMAT, a.length + 1)).toBe(a.length + garbage.length);
    expect(findNextValidFrame(new MemorySource(new Uint8Array([...a, ...garbage])), FSYS_FRAME_FORMAT, a.length + 1)).toBeNull();
  });

  it('searches past damage within a budget linear in the bytes searched, and says where it gave up', () => {
    const a = encodeFrame(new Uint8Array([1, 2, 3]), FSYS_FRAME_FORMAT);
    // Candidates each claiming the rest of the region: all overlap, none checks out.
    const region = 64 << 10;
    const crafted = new Uint8Array(region);
    for (let at = 0; at + 8 <= region; at += 8) {
      new DataView(crafted.buffer).setUint32(at, FSYS_FRAME_FORMAT.magic, false);
      new DataView(crafted.buffer).setUint32(at + 4, region - at - 12, true);
    }
    const search = searchNextValidFrame(new MemorySource(new Uint8Array([...a, ...crafted])), FSYS_FRAME_FORMAT, a.length);
    expect(search.offset).toBeNull();
    expect(search.gaveUpAt).not.toBeNull();
    expect(search.checkedBytes).toBeLessThanOrEqual(FRAME_SEARCH_CHECK_FACTOR * region + FRAME_SEARCH_CHECK_BYTES_MIN);
    // A few damaged candidates before a valid frame stay well inside the budget.
    const damaged = encodeFrame(new Uint8Array(100).fill(4), FSYS_FRAME_FORMAT);
    damaged[50]! ^= 1;
    const stream = new Uint8Array([...a, 9, ...damaged, ...damaged, ...a]);
    expect(searchNextValidFrame(new MemorySource(stream), FSYS_FRAME_FORMAT, a.length + 1)).toEqual({ offset: a.length + 1 + 2 * damaged.length, gaveUpAt: null, checkedBytes: 2 * damaged.length + a.length });
  });

  it('refuses payloads over the bound with KEEL_TOO_LARGE', () => {
    const format = defineFrameFormat(0x4b45_4c31, 8);
    expect(() => encodeFrame(new Uint8Array(9), format)).toThrow(KeelError);
    try {
      encodeFrame(new Uint8Array(9), format);
    } catch (error) {
      expect((error as KeelError).code).toBe('KEEL_TOO_LARGE');
    }
  });
});

describe('FrameScanner.skipToEnd', () => {
  it('ends where iterating ends, with the same state, count and last frame', () => {
    fc.assert(
      fc.property(payloadsArbitrary, fc.nat(), fc.integer({ min: 12, max: 256 }), (payloads, cutSeed, chunkBytes) => {
        const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT);
        const cut = stream.subarray(0, cutSeed % (stream.length + 1));
        const iterated = new FrameScanner(new MemorySource(cut), FSYS_FRAME_FORMAT, { chunkBytes });
        let count = 0;
        let lastOffset: number | null = null;
        for (let frame = iterated.next(); frame !== null; frame = iterated.next()) {
          count++;
          lastOffset = frame.offset;
          expect(iterated.lastFrameOffset).toBe(frame.offset);
        }
        const skipped = new FrameScanner(new MemorySource(cut), FSYS_FRAME_FORMAT, { chunkBytes });
        expect(skipped.skipToEnd()).toBe(count);
        expect(skipped.validBytes).toBe(iterated.validBytes);
        expect(skipped.tailState).toBe(iterated.tailState);
        expect(skipped.frames).toBe(iterated.frames);
        // Where the last valid frame starts, whichever way the scan went (null before the first).
        expect(skipped.lastFrameOffset).toBe(lastOffset);
        expect(iterated.lastFrameOffset).toBe(lastOffset);
      }),
    );
  });
});

describe('encodeFramesInto', () => {
  it('writes exactly the bytes of one encodeFrame per payload, at any offset', () => {
    fc.assert(
      fc.property(payloadsArbitrary, fc.nat({ max: 64 }), (payloads, offset) => {
        const expected = new Uint8Array(payloads.reduce((total, payload) => total + frameBytes(payload.length), 0));
        let position = 0;
        for (const payload of payloads) {
          expected.set(encodeFrame(payload, FSYS_FRAME_FORMAT), position);
          position += frameBytes(payload.length);
        }
        const target = new Uint8Array(offset + expected.length + 7).fill(0xee);
        expect(encodeFramesInto(target, offset, payloads, FSYS_FRAME_FORMAT)).toBe(offset + expected.length);
        expect(target.subarray(offset, offset + expected.length)).toEqual(expected);
        expect(target.subarray(0, offset).every((byte) => byte === 0xee)).toBe(true);
        expect(target.subarray(offset + expected.length).every((byte) => byte === 0xee)).toBe(true);
      }),
    );
  });

  it('refuses a payload over the bound with KEEL_TOO_LARGE', () => {
    const format = defineFrameFormat(0x4b45_4c31, 8);
    const target = new Uint8Array(64);
    expect(() => encodeFramesInto(target, 0, [new Uint8Array(9)], format)).toThrow(expect.objectContaining({ code: 'KEEL_TOO_LARGE' }));
  });
});

describe('validateFrameRun', () => {
  it('finds the same frames as the scanner and says why it stopped', () => {
    fc.assert(
      fc.property(payloadsArbitrary, fc.nat(), fc.option(fc.nat(), { nil: undefined }), (payloads, cutSeed, flipSeed) => {
        const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT).slice();
        if (flipSeed !== undefined && stream.length > 0) stream[flipSeed % stream.length]! ^= 0x10;
        const chunk = stream.subarray(0, cutSeed % (stream.length + 1));
        const ends = new Uint32Array(framesEndsCapacity(chunk.length));
        const run = validateFrameRun(chunk, FSYS_FRAME_FORMAT, ends);
        const scanner = new FrameScanner(new MemorySource(chunk), FSYS_FRAME_FORMAT);
        const scannedEnds: number[] = [];
        for (const frame of scanner) scannedEnds.push(frame.end);
        expect([...ends.subarray(0, run.count)]).toEqual(scannedEnds);
        const expected = { 'clean-end': 'end', 'truncated-header': 'partial', 'truncated-payload': 'partial' }[scanner.tailState as string] ?? scanner.tailState;
        expect(run.stop).toBe(expected);
      }),
    );
  });
});
