import { renameDurably } from '@keel/core';
import { HEADER_BYTES } from './format.js';
import { ensureIndexFiles } from './index-files.js';
import type { Segment } from './segment.js';
import { activeSegment, releaseSyncThread, type WriterContext } from './writer.js';

/**
 * What a roll leaves for later, done after the flushes that acknowledge records and never
 * on their path. The log runs it as maintenance (one task at a time with retention, after
 * the flush in flight), after a flush that leaves it something to do once no sealed index
 * frames are being written (and when they are written); close runs the renames once more
 * after the final flush. Each step syncs the directory, which on ext4 commits the file
 * system's journal that the next batch's fdatasync commits too: the steps run one after
 * another, after the sealed frames, and the second waits for the active segment to be
 * half full, so that the batches right after a roll meet as few of them as can be.
 *
 * 1. A segment that started in the prepared file and whose header a flush made durable is
 *    renamed to its own name, and the directory synced.
 * 2. Once the active segment is half full (by size or by age), the next prepared file is
 *    made, its directory entry durable (see prepared-segment.ts), and its sync thread
 *    started when the active segment's flushes use one: the flush that acknowledges the
 *    next roll then spawns no thread (about 100 µs) before its fdatasync. A roll that
 *    comes before (`roll()`, or an append after a long pause) creates its segment's file
 *    itself, and the flush after it syncs the directory.
 *
 * Why each crash point recovers every acknowledged record (the model: unsynced writes and
 * directory entries lost in any subset, writes torn, durable bytes damaged):
 * - Before a roll takes the prepared file, it holds only its frame or less (its data is
 *   never synced: a prefix, zeros or nothing of it): open removes it as unused.
 * - After the roll and before its flush ends, nothing in the new segment was acknowledged:
 *   the file under the prepared name holds the frame with some of the header and records
 *   over it, and open removes it, sets it aside or cuts its tail (`surveyPrepared`).
 * - Once the flush ends, the header and the records it claims are durable in a file whose
 *   directory entry was durable before the roll: open finds the segment under the
 *   prepared name and gives it its own (`takeOwnName` in recovery). No directory sync was
 *   needed for that flush.
 * - The rename in step 1 may or may not survive until its directory sync ends: the file
 *   is found under one name or the other, with the same durable bytes. The active
 *   segment's index files, created here just before the rename, are caches covered by the
 *   same directory sync; missing, open rebuilds them from the log.
 * - Step 2 creates a file under the prepared name only after that rename is durable: a
 *   crash could otherwise keep the new creation and lose the rename, and the segment's
 *   only name would then be the new, empty file's.
 * - A sealed segment's index frames may be written while it is still under the prepared
 *   name (open finds the log there and the index files under its own base): they prove
 *   what they always prove, see `flushLog`.
 * - Retention renames first too (`takeOwnNames`): a log-start checkpoint only ever names a
 *   segment under its own name, and no segment under the prepared name is deleted.
 */
export async function settleRolls(context: WriterContext): Promise<void> {
  await takeOwnNames(context);
  if (!preparedFileDue(context)) return;
  await context.prepared.prepare(context.io);
  if (activeSegment(context).syncThread) context.prepared.startSyncThread();
}

/**
 * Whether `settleRolls` may have anything to do. Asked after every flush, so it looks at
 * the prepared file's state and the active segment rather than at every segment: only the
 * one segment that took the prepared file can be awaiting its rename.
 */
export function settleDue(context: WriterContext): boolean {
  return context.prepared.inUse || (context.prepared.wanted && preparedFileDue(context));
}

/** The active segment is half full, by size or by age (step 2). */
function preparedFileDue(context: WriterContext): boolean {
  const active = activeSegment(context);
  const { segmentBytes, segmentMs, now } = context.options;
  if (active.size * 2 >= segmentBytes) return true;
  return active.firstTimestamp !== undefined && (now() - active.firstTimestamp) * 2 >= segmentMs;
}

/** Step 1 alone: every segment under the prepared name whose header is durable takes its own name. */
export async function takeOwnNames(context: WriterContext): Promise<void> {
  for (const segment of [...context.segments]) {
    if (awaitingRename(segment)) await takeOwnName(context, segment);
  }
}

/** Under the prepared name, with a header a flush made durable. */
function awaitingRename(segment: Segment): boolean {
  return segment.preparedPath !== null && segment.durableBytes >= HEADER_BYTES;
}

async function takeOwnName(context: WriterContext, segment: Segment): Promise<void> {
  // The active segment's index files: created before the rename, whose directory sync covers them.
  ensureIndexFiles(context.io, segment);
  await renameDurably(context.io, segment.preparedPath as string, segment.paths.log);
  segment.preparedPath = null;
  context.prepared.released();
  // A segment sealed while it still had the prepared name kept its handle and thread for this.
  if (segment.sealed) releaseSyncThread(context, segment);
}
