import { renameDurably } from '@keel/core';
import { ensureIndexFiles } from './index-files.js';
import type { Segment } from './segment.js';
import type { WriterContext } from './writer.js';

/**
 * What a roll leaves for later, done after the flushes that acknowledge records and never
 * on their path (the log runs it as background work, one task at a time, after the flush
 * in flight; close runs it once more after the final flush):
 *
 * 1. A segment that started in the prepared file and whose header a flush made durable is
 *    renamed to its own name, and the directory synced.
 * 2. The next prepared file is made, durably (see prepared-segment.ts).
 *
 * Why each crash point recovers every acknowledged record (the model: unsynced writes and
 * directory entries lost in any subset, writes torn, durable bytes damaged):
 * - Before a roll takes the prepared file, it holds only its frame (or less, before its
 *   syncs ended): open removes it as unused.
 * - After the roll and before its flush ends, nothing in the new segment was acknowledged:
 *   the file under the prepared name holds the frame with some of the header and records
 *   over it, and open removes it, sets it aside or cuts its tail (`surveyPrepared`).
 * - Once the flush ends, the header and records it claims are durable in a file whose
 *   directory entry was durable before the roll: open finds the segment under the
 *   prepared name and gives it its own (`takeOwnName` in recovery). No directory sync was
 *   needed. The sealed segment before it has its sealed frames durable too (the flush
 *   wrote them once its log was durable, see `flushLog`), so damage to it is refused, not
 *   taken for an unsynced tail that would cut the new segment away.
 * - The rename in step 1 may or may not survive until its directory sync ends: the file
 *   is found under one name or the other, with the same durable bytes. The segment's index
 *   files (created by a flush, no sync of their own) are covered by the same directory
 *   sync; missing, open rebuilds them from the log.
 * - Step 2 creates a file under the prepared name only after that rename is durable: a
 *   crash could otherwise keep the new creation and lose the rename, and the segment's
 *   only name would then be the new, empty file's.
 * - Retention runs as background work too, one task at a time with this, and never
 *   deletes a segment still under the prepared name or the one before it.
 */
export async function settleRolls(context: WriterContext, prepareNext = true): Promise<void> {
  for (const segment of context.segments) {
    if (awaitingRename(segment)) await takeOwnName(context, segment);
  }
  if (prepareNext) await context.prepared.prepare(context.io);
}

/** Whether `settleRolls` has anything to do. */
export function settleDue(context: WriterContext): boolean {
  return context.prepared.wanted || context.segments.some(awaitingRename);
}

/** Under the prepared name, with a header a flush made durable. */
function awaitingRename(segment: Segment): boolean {
  return segment.preparedPath !== null && segment.durableBytes > 0;
}

async function takeOwnName(context: WriterContext, segment: Segment): Promise<void> {
  ensureIndexFiles(context.io, segment);
  await renameDurably(context.io, segment.preparedPath as string, segment.paths.log);
  segment.preparedPath = null;
  segment.indexEntriesDurable = true;
  context.prepared.released();
}
