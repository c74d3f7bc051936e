import { removeIfPresentAsync, type Io } from '@keel/core';
import { writeLogStart } from './log-start.js';
import type { Segment } from './segment.js';
import type { SealedIndexWrites } from './sealed-index-writes.js';

/**
 * Deletes sealed segments from the oldest while `shouldDelete` says so, never the active
 * one, nor one whose log a flush has not yet made durable (a roll leaves that to the next
 * flush, which may be using its file). Segments a roll started in the prepared file take
 * their own names first (`takeOwnNames`, see roll-settle.ts), so that neither a deleted
 * segment nor the one the checkpoint names is still under that name; one whose header no
 * flush has made durable yet keeps it, and neither it nor the one just before it is
 * deleted. The new log start (the first kept segment's base offset) is made durable
 * first, in the log-start checkpoint; from then on open treats every segment below it as
 * deleted, whichever of its files a crash leaves. So the files are unlinked without a sync
 * each and the directory is synced once at the end: a crash at any point leaves a log
 * with a prefix removed, never a hole. A segment whose sealed index frames are still being
 * written in the background (see `flushLog`) has its files removed only once that write is
 * done. Returns how many segments were deleted.
 *
 * The unlinks run on the threadpool: freeing a large file's blocks takes milliseconds
 * (about 4 ms for 4 MiB here, far more for a 1 GiB segment) that appends would otherwise
 * wait out. One segment's three files at a time, so that a long deletion never queues
 * ahead of more than three of a flush's fdatasyncs in the shared pool.
 */
export async function deleteOldestWhile(io: Io, dir: string, segments: Segment[], sealedWrites: SealedIndexWrites, shouldDelete: (segment: Segment) => boolean, takeOwnNames: () => Promise<void>): Promise<number> {
  if (segments.some((segment) => segment.preparedPath !== null)) await takeOwnNames();
  let count = 0;
  while (count < segments.length - 1) {
    const segment = segments[count] as Segment;
    if (!segment.sealed || segment.durableBytes < segment.size || segment.preparedPath !== null || !shouldDelete(segment)) break;
    count++;
  }
  // The checkpoint may name only a segment open can find by its name: one still under the
  // prepared name holds no durable header yet.
  if (count > 0 && (segments[count] as Segment).preparedPath !== null) count--;
  if (count === 0) return 0;
  await syncNewEntries(io, dir, segments);
  const newStart = segments[count] as Segment;
  await writeLogStart(io, dir, newStart.baseOffset, newStart.storeId);
  const deleted = segments.splice(0, count);
  // Out of the list, no flush starts a write of their sealed frames; those still queued
  // are dropped, and one running now ends first.
  sealedWrites.drop(deleted);
  for (const segment of deleted) {
    await segment.indexWriting;
    segment.closeFiles();
    const { log, offsetIndex, timeIndex } = segment.paths;
    await Promise.all([log, offsetIndex, timeIndex].map((path) => removeIfPresentAsync(io, path)));
  }
  await io.syncDir(dir);
  return count;
}

/**
 * The checkpoint names a segment open must find: a segment a roll created must have a
 * durable directory entry before a checkpoint can name it (a crash may keep the
 * checkpoint's rename and lose the segment's creation otherwise).
 */
async function syncNewEntries(io: Io, dir: string, segments: readonly Segment[]): Promise<void> {
  const created = segments.filter((segment) => !segment.entryDurable);
  if (created.length === 0) return;
  await io.syncDir(dir);
  for (const segment of created) segment.entryDurable = true;
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
