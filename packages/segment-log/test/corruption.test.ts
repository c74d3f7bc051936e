import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SegmentLog, type SegmentLogOptions } from '../src/index.js';
import { bytes, filesEndingWith, flipByte, tempDir } from './helpers.js';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../src/format.js';

const OPTIONS: SegmentLogOptions = { segmentBytes: 4000, indexIntervalBytes: 200 };
// Each append() call below gets a batch frame of its own: the frame's overhead, then one
// record of timestamp delta, key length, value length, the 30-byte value and header count.
const FRAME_BYTES = BATCH_OVERHEAD_BYTES + 1 + 1 + 1 + 30 + 1;

async function filled(dir: string, count: number): Promise<void> {
  await using log = await SegmentLog.open(dir, OPTIONS);
  // One append() call per record, so one frame per record.
  for (let index = 0; index < count; index++) log.append({ value: bytes('v'.repeat(30)), timestamp: index });
  await log.sync();
}

async function openError(dir: string, options: SegmentLogOptions = OPTIONS): Promise<{ code?: string; path?: string; offset?: number }> {
  try {
    const log = await SegmentLog.open(dir, options);
    await log.close();
  } catch (error) {
    return error as { code?: string; path?: string; offset?: number };
  }
  return {};
}

describe('corruption', () => {
  it('refuses damage in the middle of the active segment, changes nothing, and salvages on request', async () => {
    const dir = tempDir();
    await filled(dir, 20);
    const segment = filesEndingWith(dir, '.log')[0]!;
    const damagedAt = HEADER_BYTES + 5 * FRAME_BYTES + 20;
    flipByte(segment, damagedAt);
    const before = readFileSync(segment);
    const error = await openError(dir);
    expect(error.code).toBe('KEEL_CORRUPT');
    expect(error.offset).toBe(HEADER_BYTES + 5 * FRAME_BYTES);
    expect(readFileSync(segment)).toEqual(before);
    await using log = await SegmentLog.open(dir, { ...OPTIONS, recovery: 'salvage' });
    expect(log.nextOffset).toBe(5);
    expect(statSync(segment).size).toBe(HEADER_BYTES + 5 * FRAME_BYTES);
  });

  it('finds damage inside a sealed segment with verify(), naming the segment and byte offset', async () => {
    const dir = tempDir();
    await filled(dir, 200);
    const sealed = filesEndingWith(dir, '.log')[1]!;
    // The second record's frame: far from the tail that open checks cheaply.
    const frameAt = HEADER_BYTES + FRAME_BYTES;
    flipByte(sealed, frameAt + 30);
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(log.segments().length).toBeGreaterThan(3);
    let caught: { code?: string; path?: string; offset?: number } = {};
    await log.verify().catch((error: unknown) => {
      caught = error as typeof caught;
    });
    expect(caught.code).toBe('KEEL_CORRUPT');
    expect(caught.path).toBe(sealed);
    expect(caught.offset).toBe(frameAt);
    // Reads never return the damaged record; they report it the same way.
    const baseOffset = log.segments()[1]!.baseOffset;
    let readError: { code?: string; path?: string; offset?: number } = {};
    try {
      log.read(baseOffset);
    } catch (error) {
      readError = error as typeof readError;
    }
    expect(readError).toMatchObject({ code: 'KEEL_CORRUPT', path: sealed, offset: frameAt });
    expect(log.read(baseOffset, { maxRecords: 1 }).length).toBe(1);
  });

  it("with verify: 'full', refuses damage anywhere in a sealed segment at open and changes nothing", async () => {
    const dir = tempDir();
    await filled(dir, 200);
    const sealed = filesEndingWith(dir, '.log')[1]!;
    flipByte(sealed, HEADER_BYTES + FRAME_BYTES + 30);
    const before = readFileSync(sealed);
    const error = await openError(dir, { ...OPTIONS, verify: 'full' });
    expect(error).toMatchObject({ code: 'KEEL_CORRUPT', path: sealed, offset: HEADER_BYTES + FRAME_BYTES });
    expect(readFileSync(sealed)).toEqual(before);
  });

  it('refuses to open when the cheaply checked tail of a sealed segment is damaged', async () => {
    const dir = tempDir();
    await filled(dir, 200);
    const sealed = filesEndingWith(dir, '.log')[0]!;
    flipByte(sealed, statSync(sealed).size - 2);
    const before = readFileSync(sealed);
    const error = await openError(dir);
    expect(error.code).toBe('KEEL_CORRUPT');
    expect(error.path).toBe(sealed);
    expect(readFileSync(sealed)).toEqual(before);
  });

  it('refuses a sealed segment that was cut short (a hole between segments)', async () => {
    const dir = tempDir();
    await filled(dir, 200);
    const sealed = filesEndingWith(dir, '.log')[0]!;
    const data = readFileSync(sealed);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(sealed, data.subarray(0, data.length - FRAME_BYTES));
    expect((await openError(dir)).code).toBe('KEEL_CORRUPT');
  });
});
