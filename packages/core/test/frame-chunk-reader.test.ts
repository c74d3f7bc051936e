import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FSYS_FRAME_FORMAT, FrameChunkReader, FrameScanner, PLACED_READ_BYTES_MIN, encodeFrames, type AsyncFrameSource, type FrameSource } from '../src/index.js';
import { isPlacedFor } from './placement.js';

/**
 * Bytes in memory, read asynchronously (each read settles a turn later), with a log of the
 * reads asked for and a count of the reads not placed for their position.
 */
class AsyncMemory implements AsyncFrameSource, FrameSource {
  readonly reads: number[] = [];
  misplaced = 0;
  misplacedSync = 0;
  constructor(readonly bytes: Uint8Array) {}
  async read(into: Uint8Array, position: number): Promise<number> {
    this.reads.push(position);
    if (!isPlacedFor(into, position)) this.misplaced++;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.readSync(into, position);
  }
  readSync(into: Uint8Array, position: number): number {
    if (!isPlacedFor(into, position)) this.misplacedSync++;
    const available = Math.max(0, Math.min(into.length, this.bytes.length - position));
    into.set(this.bytes.subarray(position, position + available));
    return available;
  }
  sizeSync(): number {
    return this.bytes.length;
  }
}

interface Scanned {
  frames: { offset: number; payload: number[] }[];
  tailState: string | null;
  validBytes: number;
}

async function readAll(source: AsyncMemory, from: number, to: number, chunkBytes: number): Promise<Scanned> {
  const reader = new FrameChunkReader(source, FSYS_FRAME_FORMAT, { from, to, chunkBytes });
  const frames: Scanned['frames'] = [];
  for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) {
    let start = 0;
    for (let index = 0; index < chunk.count; index++) {
      const end = chunk.ends[index]!;
      frames.push({ offset: chunk.position + start, payload: [...chunk.bytes.subarray(start + 8, end - 4)] });
      start = end;
    }
  }
  return { frames, tailState: reader.tailState, validBytes: reader.validBytes };
}

/** The synchronous scanner every store already trusts, as the reference. */
function scanAll(source: FrameSource, from: number, to: number, chunkBytes = 4096): Scanned {
  const scanner = new FrameScanner(source, FSYS_FRAME_FORMAT, { from, to, chunkBytes });
  const frames: Scanned['frames'] = [];
  for (const frame of scanner) frames.push({ offset: frame.offset, payload: [...frame.payload] });
  return { frames, tailState: scanner.tailState, validBytes: scanner.validBytes };
}

/** Payload sizes: mostly small, some past the reader's 64 KiB carry room so it must grow. */
const payloadArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 140_000 }).map((length) => new Uint8Array(length).fill(length & 0xff)) },
);

const damageArbitrary = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

describe('FrameChunkReader', () => {
  it('hands out exactly the frames, tail state and valid end the synchronous scanner finds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(payloadArbitrary, { maxLength: 40 }),
        damageArbitrary,
        fc.integer({ min: 12, max: 300_000 }),
        fc.nat(),
        async (payloads, damage, chunkBytes, fromFrame) => {
          let bytes = encodeFrames(payloads, FSYS_FRAME_FORMAT);
          if (damage.kind === 'flip' && bytes.length > 0) bytes[damage.at % bytes.length]! ^= 0x5a;
          if (damage.kind === 'cut' && bytes.length > 0) bytes = bytes.subarray(0, damage.at % bytes.length);
          let from = 0;
          for (let index = 0; index < fromFrame % (payloads.length + 1) && from + 8 <= bytes.length; index++) {
            from += (payloads[index]?.length ?? 0) + 12;
          }
          from = Math.min(from, bytes.length);
          const source = new AsyncMemory(bytes);
          expect(await readAll(source, from, bytes.length, chunkBytes)).toEqual(scanAll(source, from, bytes.length));
          expect(source.misplaced).toBe(0);
          // The synchronous scanner with large chunks reads them placed, and finds the same.
          const placedSource = new AsyncMemory(bytes);
          const reference = scanAll(source, from, bytes.length);
          expect(scanAll(placedSource, from, bytes.length, Math.max(PLACED_READ_BYTES_MIN, chunkBytes))).toEqual(reference);
          if (bytes.length - from >= PLACED_READ_BYTES_MIN) expect(placedSource.misplacedSync).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('has the next read in flight while the caller holds a chunk', async () => {
    const bytes = encodeFrames(Array.from({ length: 100 }, () => new Uint8Array(88)), FSYS_FRAME_FORMAT);
    const source = new AsyncMemory(bytes);
    const reader = new FrameChunkReader(source, FSYS_FRAME_FORMAT, { from: 0, to: bytes.length, chunkBytes: 1000 });
    const first = await reader.next();
    expect(first?.count).toBe(10);
    // The second chunk's read was issued before the first was handed out.
    expect(source.reads).toEqual([0, 1000]);
    const second = await reader.next();
    expect(second?.position).toBe(1000);
    expect(source.reads).toEqual([0, 1000, 2000]);
  });

  it('reports a read that fails, and leaves no rejection unhandled when the caller stops early', async () => {
    const bytes = encodeFrames(Array.from({ length: 100 }, () => new Uint8Array(88)), FSYS_FRAME_FORMAT);
    const failing: AsyncFrameSource = {
      read: async (into, position) => {
        if (position >= 2000) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        into.set(bytes.subarray(position, position + into.length));
        return into.length;
      },
    };
    const reader = new FrameChunkReader(failing, FSYS_FRAME_FORMAT, { from: 0, to: bytes.length, chunkBytes: 1000 });
    expect((await reader.next())?.count).toBe(10);
    expect((await reader.next())?.count).toBe(10);
    await expect(reader.next()).rejects.toMatchObject({ code: 'EIO' });
    // A reader dropped with a failing read ahead in flight: the process must not see an unhandled rejection.
    const dropped = new FrameChunkReader(failing, FSYS_FRAME_FORMAT, { from: 1000, to: bytes.length, chunkBytes: 1000 });
    expect((await dropped.next())?.count).toBe(10);
    await new Promise<void>((resolve) => setImmediate(resolve));
  });
});
