import { describe, expect, it } from 'vitest';
import { nativeIo } from '@keel/core';
import { SegmentLog } from '../src/index.js';
import { bytes, codeOf, faultyIo, filesEndingWith, flipByte, newFaults, tempDir } from './helpers.js';
import { readFileSync } from 'node:fs';
import { BATCH_HEADER_BYTES, HEADER_BYTES } from '../src/format.js';

/** The start, base offset and record count of the `index`-th batch frame of a `.log` file, read from its bytes. */
function batchFrameOf(path: string, index: number): { position: number; baseOffset: number; count: number } {
  const data = readFileSync(path);
  let position = HEADER_BYTES;
  // A frame is magic u32 BE, payload length u32 LE, payload, CRC u32 LE.
  for (let frame = 0; frame < index; frame++) position += 12 + data.readUInt32LE(position + 4);
  const payloadLength = data.readUInt32LE(position + 4);
  if (position + 12 + payloadLength > data.length || payloadLength < BATCH_HEADER_BYTES) throw new Error(`no batch frame ${index} in ${path}`);
  return { position, baseOffset: Number(data.readBigUInt64LE(position + 8)), count: data.readUInt32LE(position + 16) };
}

describe('read limits', () => {
  it('honours maxRecords and maxBytes and always returns at least one record', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 1000 });
    for (let index = 0; index < 50; index++) log.append({ value: bytes(String(index).padStart(50, '0')), timestamp: index });
    expect(log.read(3, { maxRecords: 4 }).map((record) => record.offset)).toEqual([3, 4, 5, 6]);
    // maxBytes counts a record's bytes in its frame: timestamp delta, key length, value
    // length, the 50-byte value and header count.
    const recordBytes = 1 + 1 + 1 + 50 + 1;
    expect(log.read(10, { maxBytes: recordBytes * 3 }).map((record) => record.offset)).toEqual([10, 11, 12]);
    expect(log.read(10, { maxBytes: recordBytes * 3 + recordBytes - 1 }).length).toBe(3);
    expect(log.read(10, { maxBytes: 1 }).map((record) => record.offset)).toEqual([10]);
    // Reads run across segment boundaries.
    expect(log.segments().length).toBeGreaterThan(3);
    expect(log.read(7, { maxRecords: 30 }).map((record) => record.offset)).toEqual(Array.from({ length: 30 }, (_, index) => 7 + index));
    expect(log.read(50)).toEqual([]);
    expect(await codeOf(() => log.read(51))).toBe('KEEL_NOT_FOUND');
  });

  it('returns copies that survive later appends, rolls and retention', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { segmentBytes: 300 });
    log.append({ value: bytes('keep me'), timestamp: 1 });
    const [record] = log.read(0);
    for (let index = 0; index < 30; index++) log.append({ value: bytes('x'.repeat(40)), timestamp: 2 });
    await log.deleteBefore(25);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(new TextDecoder().decode(record!.value)).toBe('keep me');
  });

  it('a read with a record limit reads about what it needs, not a whole chunk, and still checks every CRC', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const log = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults), segmentBytes: 1 << 20 });
    log.appendBatch(Array.from({ length: 20_000 }, (_, index) => ({ value: bytes(String(index).padStart(100, '0')), timestamp: index })));
    log.append({ value: new Uint8Array(40_000).fill(7), timestamp: 20_000 });
    log.append({ value: bytes('after the large one'), timestamp: 20_001 });
    faults.bytesRead = 0;
    expect(log.read(12_345, { maxRecords: 1 }).map((record) => record.offset)).toEqual([12_345]);
    // Index entries point at frame starts: at most one index interval (4 KiB) of frames to
    // skip plus the frame (about 4 KiB) holding the record: one first-sized read.
    expect(faults.bytesRead).toBeLessThanOrEqual(8 * 1024);
    expect(log.read(100, { maxRecords: 300 }).map((record) => record.offset)).toEqual(Array.from({ length: 300 }, (_, index) => 100 + index));
    // A record larger than the first read grows it.
    const [large] = log.read(20_000, { maxRecords: 1 });
    expect(large!.value.length).toBe(40_000);
    expect(log.read(20_001, { maxRecords: 1 })[0]!.offset).toBe(20_001);
    await log.close();

    // Damage the second batch frame of a sealed segment: the whole frame is refused, every
    // record in it, and the records of the first frame before it are still read.
    const sealed = filesEndingWith(dir, '.log')[0]!;
    const damaged = batchFrameOf(sealed, 1);
    expect(damaged.count).toBeGreaterThan(1);
    flipByte(sealed, damaged.position + 40);
    await using reopened = await SegmentLog.open(dir);
    const before = damaged.baseOffset - 1;
    expect(reopened.read(before, { maxRecords: 1 }).map((record) => record.offset)).toEqual([before]);
    for (const offset of [damaged.baseOffset, damaged.baseOffset + damaged.count - 1]) {
      let caught: { code?: string; offset?: number } = {};
      try {
        reopened.read(offset, { maxRecords: 1 });
      } catch (error) {
        caught = error as typeof caught;
      }
      expect(caught).toMatchObject({ code: 'KEEL_CORRUPT', offset: damaged.position });
    }
  });
});
