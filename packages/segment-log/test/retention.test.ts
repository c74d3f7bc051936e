import { existsSync, readdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeIo, type Io } from '@keel/core';
import { SegmentLog, type SegmentLogOptions } from '../src/index.js';
import { bytes, filesEndingWith, tempDir, oneRecordFrameBytes } from './helpers.js';
import { HEADER_BYTES } from '../src/format.js';

/** Records are appended one at a time: a frame each. */
const FRAME_BYTES = oneRecordFrameBytes(50);

function fill(log: SegmentLog, count: number, timestamp: (index: number) => number = (index) => index): void {
  for (let index = 0; index < count; index++) log.append({ value: bytes('r'.repeat(50)), timestamp: timestamp(index) });
}

describe('retention', () => {
  it('deleteBefore drops whole sealed segments below the offset, never the active one', async () => {
    const dir = tempDir();
    // Four records per segment.
    const options: SegmentLogOptions = { segmentBytes: HEADER_BYTES + 4 * FRAME_BYTES };
    await using log = await SegmentLog.open(dir, options);
    fill(log, 18);
    expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4, 8, 12, 16]);
    expect(await log.deleteBefore(9)).toBe(2);
    expect(log.startOffset).toBe(8);
    expect(filesEndingWith(dir, '.log').length).toBe(3);
    // Every file of the two deleted segments is gone. The kept sealed segments' index files
    // may still be on their way (their frames are written in the background after a flush),
    // so they are not counted here.
    const names = readdirSync(dir);
    expect(names.filter((name) => /^0{20}\.|^0{19}4\./.test(name))).toEqual([]);
    expect(names.filter((name) => name.startsWith('00000000000000000016.'))).toHaveLength(3);
    expect(await log.deleteBefore(1000)).toBe(2);
    expect(log.startOffset).toBe(16);
    expect(log.segments()).toEqual([expect.objectContaining({ baseOffset: 16, sealed: false, records: 2 })]);
    expect(log.read(16).length).toBe(2);
  });

  it('deleted segments are unlinked off the event loop (Io.removeAsync), never by the blocking remove', async () => {
    const dir = tempDir();
    const removed: string[] = [];
    const blocking: string[] = [];
    const io: Io = {
      ...nativeIo,
      remove: (path) => {
        blocking.push(path);
        nativeIo.remove(path);
      },
      removeAsync: (path) => {
        removed.push(path);
        return nativeIo.removeAsync!(path);
      },
    };
    await using log = await SegmentLog.open(dir, { io, segmentBytes: HEADER_BYTES + 4 * FRAME_BYTES, retention: { bytes: 1 } });
    fill(log, 13);
    await log.sync();
    await log.enforceRetention();
    expect(log.startOffset).toBe(12);
    const names = removed.map((path) => path.slice(dir.length + 1)).sort();
    expect(names.filter((name) => name.endsWith('.log'))).toHaveLength(3);
    expect(names.filter((name) => name.endsWith('.index') || name.endsWith('.timeindex'))).toHaveLength(6);
    expect(blocking.filter((path) => /\.(log|index|timeindex)$/.test(path))).toEqual([]);
  });

  it('enforceRetention by bytes keeps the newest segments within the limit', async () => {
    const dir = tempDir();
    const segmentBytes = HEADER_BYTES + 4 * FRAME_BYTES;
    await using log = await SegmentLog.open(dir, { segmentBytes, retention: { bytes: segmentBytes * 2 } });
    fill(log, 17);
    await log.enforceRetention();
    // Segments: [12..15] sealed and [16] active fit in two segments' bytes.
    expect(log.startOffset).toBe(12);
    expect(log.stats().bytes).toBeLessThanOrEqual(segmentBytes * 2);
  });

  it('enforceRetention by age deletes segments whose newest record is too old, and runs on roll', async () => {
    const dir = tempDir();
    let now = 1000;
    await using log = await SegmentLog.open(dir, { segmentBytes: HEADER_BYTES + 4 * FRAME_BYTES, retention: { ms: 50 }, now: () => now });
    fill(log, 12, (index) => 900 + index * 10);
    await log.enforceRetention();
    // Segment [0..3] has max 930 < 1000 - 50; [4..7] has max 970.
    expect(log.startOffset).toBe(4);
    now = 1100;
    fill(log, 1, () => 1100);
    // The append rolled; retention runs after it without being asked.
    await log.enforceRetention();
    expect(log.startOffset).toBe(12);
  });

  it('a retention interrupted after removing a .log leaves a consistent log whose orphans open removes', async () => {
    const dir = tempDir();
    const options: SegmentLogOptions = { segmentBytes: HEADER_BYTES + 4 * FRAME_BYTES };
    {
      await using log = await SegmentLog.open(dir, options);
      fill(log, 10);
    }
    rmSync(filesEndingWith(dir, '.log')[0]!);
    await using log = await SegmentLog.open(dir, options);
    expect(log.startOffset).toBe(4);
    expect(log.nextOffset).toBe(10);
    expect(log.recovery.actions.filter((action) => action.kind === 'removed-file').length).toBe(2);
    expect(existsSync(filesEndingWith(dir, '.index')[0]!.replace('00004', '00000'))).toBe(false);
    await log.verify();
  });
});
