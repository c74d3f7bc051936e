import { isKeelError, type Io } from '@keel/core';
import type { Segment } from './segment.js';

/**
 * Deletes sealed segments from the oldest while `shouldDelete` says so, never the active
 * one. Each segment goes `.log` first (after which it no longer exists for open; its
 * index files are orphans that open removes) and the directory is synced before the next
 * one, so a crash at any point leaves a log with a prefix removed, never a hole.
 * Returns how many segments were deleted.
 */
export async function deleteOldestWhile(io: Io, dir: string, segments: Segment[], shouldDelete: (segment: Segment) => boolean): Promise<number> {
  let deleted = 0;
  while (segments.length > 1) {
    const oldest = segments[0] as Segment;
    if (!oldest.sealed || !shouldDelete(oldest)) break;
    segments.shift();
    oldest.closeFiles();
    removeIfPresent(io, oldest.paths.log);
    removeIfPresent(io, oldest.paths.offsetIndex);
    removeIfPresent(io, oldest.paths.timeIndex);
    await io.syncDir(dir);
    deleted++;
  }
  return deleted;
}

function removeIfPresent(io: Io, path: string): void {
  try {
    io.remove(path);
  } catch (error) {
    if (!isKeelError(error, 'KEEL_NOT_FOUND')) throw error;
  }
}

export interface RetentionLimits {
  bytes: number;
  ms: number;
  now: number;
}

/**
 * Kafka's two rules, oldest first: a segment goes while the log is larger than
 * `bytes`, or while its newest record is older than `ms`.
 */
export function retentionPredicate(segments: readonly Segment[], limits: RetentionLimits): (segment: Segment) => boolean {
  let total = segments.reduce((sum, segment) => sum + segment.size, 0);
  return (segment) => {
    const tooBig = total > limits.bytes;
    const tooOld = segment.maxTimestamp < limits.now - limits.ms;
    if (!tooBig && !tooOld) return false;
    total -= segment.size;
    return true;
  };
}
