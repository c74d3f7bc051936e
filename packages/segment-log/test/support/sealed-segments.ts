// Sealed segments on disk, as the uploader is handed them: a closed log rolled after each
// batch, so every segment but the last is sealed and whole.
import { randomBytes } from 'node:crypto';

import { segmentPaths } from '../../src/format.js';
import { SegmentLog } from '../../src/index.js';
import type { SealedSegment } from '../../src/tiered/segment-uploader.js';
import { tempDir } from '../helpers.js';

/** A closed log in a new temp dir with `count` sealed segments of 20 random `valueBytes`-byte records each. */
export async function sealedSegments(count: number, valueBytes = 1000): Promise<{ dir: string; segments: SealedSegment[] }> {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, { durability: { mode: 'explicit' }, segmentBytes: 64 * 1024 });
  for (let i = 0; i < count; i++) {
    log.appendBatch(Array.from({ length: 20 }, () => ({ value: randomBytes(valueBytes), timestamp: 1_700_000_000_000 + i })));
    log.roll();
  }
  await log.sync();
  const all = log.segments();
  await log.close();
  const segments = all.slice(0, -1).map((segment, index) => ({
    baseOffset: segment.baseOffset,
    nextOffset: all[index + 1]!.baseOffset,
    maxTimestamp: segment.maxTimestamp ?? 0,
    paths: segmentPaths(dir, segment.baseOffset),
  }));
  if (segments.length !== count) throw new Error(`${segments.length} sealed segments, not ${count}`);
  return { dir, segments };
}
