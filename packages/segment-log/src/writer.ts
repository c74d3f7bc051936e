import type { Io } from '@keel/core';
import type { SealedFileCache } from './file-cache.js';
import type { NormalizedOptions } from './options.js';
import { batchRecordBodyBytes, recordsBytesBound, timestampAt, type PreparedBatch } from './record.js';
import { encodeBatchRun } from './batch-encoder.js';
import { FrameTable } from './frame-table.js';
import type { WriteBuffer } from './write-buffer.js';
import type { Segment } from './segment.js';
import { createSegment, headerFrame, sealSegment } from './segment-files.js';
import { INDEX_WRITE_ENTRIES, ensureIndexFiles, rewriteIndexFiles, rewriteIndexFilesSync, writeDurableEntries } from './index-files.js';
import type { PreparedSegment } from './prepared-segment.js';
import type { SealedIndexWrites } from './sealed-index-writes.js';
import type { SealedCheckpoint } from './sealed-checkpoint.js';
import { HEADER_BYTES, HEADER_FLAG_SEALED_DURABLE } from './format.js';

/** A batch is written in pieces of at most this many bytes (always at least one record). */
export const WRITE_CHUNK_BYTES_MAX = 16 * 1024 * 1024;

export interface WriterContext {
  io: Io;
  dir: string;
  options: NormalizedOptions;
  /** Oldest first; the last one is active. */
  segments: Segment[];
  /**
   * The segments a flush may still owe something (see `owesFlush`), oldest first: what
   * `planFlush` visits instead of every segment of the log. Every write, roll and open adds
   * to it; `planFlush` drops what it finds settled.
   */
  unsettled: Set<Segment>;
  /** Open files of sealed segments, least recently used closed first. */
  files: SealedFileCache;
  /** What runs of records are framed into before their write, reused from append to append. */
  buffer: WriteBuffer;
  /** The next segment's file, made durable ahead (after a flush) so that a roll creates none and syncs no directory. */
  prepared: PreparedSegment;
  /** Sealed segments' index frames being written after the flush that made them due. */
  sealedWrites: SealedIndexWrites;
  /** What proves, until those frames are durable, that the sealed segments were (see `flushLog`). */
  sealedCheckpoint: SealedCheckpoint;
  /** Called after a roll (the log runs retention then). */
  onRoll(): void;
}

export function activeSegment(context: WriterContext): Segment {
  const segment = context.segments[context.segments.length - 1];
  if (segment === undefined) throw new Error('a segment log always has an active segment');
  return segment;
}

/** Where each run's frames lie, from its encoding to its accounting: one table for every append (appends are synchronous). */
const runFrames = new FrameTable();

/**
 * Appends a validated batch, rolling to a new segment whenever the next record would
 * push the active one past `segmentBytes` or is more than `segmentMs` newer than its
 * first record. Each run of records that stays in one segment is framed into the
 * writer's buffer (as batch frames: see batch-encoder.ts) and costs one write. Returns
 * the offset of the first record.
 */
export function appendPrepared(context: WriterContext, batch: PreparedBatch): number {
  const first = activeSegment(context).nextOffset;
  let next = 0;
  // The header of a segment this batch rolled to, written with its first records.
  let header: Uint8Array | null = null;
  while (next < batch.count) {
    const segment = activeSegment(context);
    const taken = writeRun(context, segment, batch, next, header);
    if (taken === 0) {
      // An empty segment takes any record: the next turn writes at least one, with the header.
      header = roll(context, false);
      continue;
    }
    header = null;
    next += taken;
  }
  return first;
}

/**
 * Frames the records from `from` that fit the segment (its room, its `segmentMs`, one
 * write's worth) and writes them at its end (after `header`, at 0, when given). Returns
 * how many it wrote: none when the segment has no room for the next record.
 */
function writeRun(context: WriterContext, segment: Segment, batch: PreparedBatch, from: number, header: Uint8Array | null): number {
  const { buffer, options } = context;
  // A batch that starts in a segment holding records goes in whole or rolls first (see
  // `RunLimits.whole`); one that cannot fit is not encoded to find that out.
  const whole = from === 0;
  if (whole && segment.records > 0 && batch.bytesMin > options.segmentBytes - segment.size) return 0;
  // Room for the rest of the batch within one write's worth, and always for its next record.
  const target = buffer.reserve(Math.max(Math.min(batch.bytesBound, WRITE_CHUNK_BYTES_MAX), recordsBytesBound(batchRecordBodyBytes(batch, from), 1)), header === null ? segment.size : HEADER_BYTES);
  let taken = 0;
  try {
    taken = encodeBatchRun(target, buffer.view, batch, from, segment.nextOffset, {
      roomBytes: options.segmentBytes - segment.size,
      timestampMax: (segment.firstTimestamp ?? timestampAt(batch, from)) + options.segmentMs,
      segmentEmpty: segment.records === 0,
      writeBytesMax: WRITE_CHUNK_BYTES_MAX,
      whole,
    }, runFrames);
    if (taken === 0) return 0;
    const bytes = runFrames.end[runFrames.count - 1] as number;
    if (header === null) segment.log.writeSync(target.subarray(0, bytes), segment.size);
    else segment.log.writevSync([header, target.subarray(0, bytes)], 0);
  } finally {
    buffer.release();
  }
  context.unsettled.add(segment);
  segment.observeRun(batch.timestamps, batch.now, from, from + taken, runFrames, options.indexIntervalBytes);
  return taken;
}

/**
 * Seals the active segment and starts the next one at the following offset, in the file
 * prepared ahead when one is ready (else in a file created here). No flush runs here (this
 * is inside an append): `onRoll` asks the group commit for one, which makes the roll
 * durable off the event loop. With `writeHeader: false` the new segment's header is
 * returned for the caller to write with its first records, else written here (and null
 * returned).
 */
export function roll(context: WriterContext, writeHeader = true): Uint8Array | null {
  const sealed = activeSegment(context);
  sealSegment(sealed);
  startSealSync(sealed);
  const { io, dir, files } = context;
  const headerFlags = everySegmentDurable(context) ? HEADER_FLAG_SEALED_DURABLE : 0;
  const next = createSegment(io, dir, sealed.nextOffset, files, sealed.storeId, { prepared: context.prepared.take(), headerWritten: writeHeader, headerFlags });
  context.segments.push(next);
  // The sealed segment owes its index frames (and maybe bytes), the new one its header.
  context.unsettled.add(sealed).add(next);
  context.onRoll();
  return writeHeader ? null : headerFrame(next.baseOffset, next.storeId, headerFlags);
}

/**
 * Whether every segment of the log is whole and durable, under a durable directory entry,
 * now: what the next segment's header may then say (HEADER_FLAG_SEALED_DURABLE), since it
 * is written after. Only a segment in `unsettled` can still owe bytes or an entry. True at
 * a roll that follows a synced batch: the sealed segment's fdatasync returned before it.
 */
function everySegmentDurable(context: WriterContext): boolean {
  for (const segment of context.unsettled) {
    if (segment.durableBytes < segment.size || !segment.entryDurable) return false;
  }
  return true;
}

/**
 * Starts the sealed segment's fdatasync now, as it is sealed, rather than in the flush the
 * roll asks for: the flush that acknowledges a batch that rolled must wait for that sync
 * before it may write the sealed-offset checkpoint (and for the checkpoint's own datasync
 * after it), so the sooner it starts, the shorter that chain. Every byte the segment will
 * hold was written before this call (the append writes a segment's records before it rolls
 * past it), so this sync covers all of it; the flush waits for it instead of syncing again
 * and only then counts the bytes durable (`segmentDurableThrough`), as it always did:
 * nothing else learns of it sooner. A failure poisons the log through the guarded Io and
 * fails that flush; nothing here waits for it.
 */
function startSealSync(segment: Segment): void {
  if (segment.durableBytes >= segment.size) return;
  const sync = segment.log.datasync();
  // Observed by the flush that awaits it; until then a rejection is not unhandled.
  sync.catch(() => undefined);
  segment.sealSync = sync;
}

/** What one flush makes durable, decided when it starts. */
interface FlushPlan {
  /** Segments with unsynced bytes, and their size now: a flush claims only what was written before it began. */
  logs: { segment: Segment; size: number }[];
  /** Sealed segments whose index files do not yet durably hold their sealed frames, and for which no write of them runs. */
  sealed: Segment[];
  /** Segments a roll created under their own name (no prepared file was ready) since the last directory sync. */
  entries: Segment[];
}

/**
 * Whether a flush may still have work for `segment`: bytes to sync, a directory entry to
 * make durable, or (sealed) index frames not yet durable. None of these comes back once
 * done, and only the active segment is written to, so a segment that owes nothing leaves
 * `unsettled` until a write or a roll adds it again.
 */
function owesFlush(segment: Segment): boolean {
  return segment.durableBytes < segment.size || !segment.entryDurable || (segment.sealed && !segment.indexDurable);
}

/** At open: the recovered segments a flush may still owe something. */
export function unsettledSegments(segments: readonly Segment[]): Set<Segment> {
  return new Set(segments.filter(owesFlush));
}

/**
 * Visits the segments in `unsettled` only, not every segment of the log (one or two per
 * flush, however long the log), and drops those that owe nothing any more, or that
 * retention deleted (oldest first: below the first segment left).
 */
function planFlush(context: WriterContext): FlushPlan {
  const plan: FlushPlan = { logs: [], sealed: [], entries: [] };
  const start = (context.segments[0] as Segment).baseOffset;
  for (const segment of context.unsettled) {
    if (segment.baseOffset < start || !owesFlush(segment)) {
      context.unsettled.delete(segment);
      continue;
    }
    if (segment.durableBytes < segment.size) plan.logs.push({ segment, size: segment.size });
    // One whose frames are being written has nothing more for a flush until that write ends.
    if (segment.sealed && !segment.indexDurable && segment.indexWriting === null) plan.sealed.push(segment);
    if (!segment.entryDurable) plan.entries.push(segment);
  }
  return plan;
}

/**
 * The group commit's flush, off the event loop, in one disk round: side by side, every
 * segment with unsynced bytes (the sealed ones a roll left behind too) and, when a roll
 * found no prepared file ready and created a segment under its own name, the directory
 * (that segment's index files are created first, on this thread while the datasyncs run,
 * so that the same directory sync covers them). A roll into the prepared file adds no
 * directory sync: that file's directory entry was durable before the roll, and its rename
 * to the segment's own name comes after, in background work (see roll-settle.ts). Once
 * those are durable the flush resolves: every offset it claims is then in a durable log,
 * behind a durable header, under a durable directory entry (under one of its two names),
 * and every segment before it is durable too.
 *
 * The index frames of the sealed segments this made whole are not needed for that: they
 * are written after, in the background (`SealedIndexWrites`). Crash argument: open takes
 * a sealed frame on disk as proof that the segment's whole log, the next segment's header
 * and the next segment's directory entry were durable (see `surveySegments`), and refuses
 * a log that then disagrees as damage. So a frame is written only once all three are
 * durable: `sealedIndexDue` checks them, and the write starts only after the syncs that
 * made them so completed, never in the same round (a frame made durable beside the next
 * header could outlive a crash that lost the header, make its segment active again and
 * then refuse it). A crash after the flush resolved and before the frames are durable
 * leaves the sealed segment's index files with their entries from when it was active,
 * none, or a torn frame: open cannot load those as a sealed index, reads the whole log,
 * finds exactly the records the next segment's base offset calls for, keeps the segment
 * ('rescanned') and rewrites its index files. Nothing acknowledged rests on the frames.
 * What tells that log, if it then does not end cleanly, from one whose tail a crash tore
 * before anything after it was acknowledged is the sealed-offset checkpoint: written once
 * the sealed logs (and the entries) this flush syncs are durable, beside the next
 * segment's datasync, and durable before the flush resolves (`checkpointSealed`). Open
 * refuses damage at or below the offset it names. That write is the one step a roll adds
 * to the flush that acknowledges it: an in-place write of 40 bytes and its datasync. It
 * is skipped for a segment that was durable whole before the roll (its last batch was
 * synced): the next segment's header says so (HEADER_FLAG_SEALED_DURABLE), and this
 * flush makes that header durable.
 *
 * None of that work is lost sight of: a failure poisons the log the moment it happens
 * (failing every flush then in flight, and every call after), close waits for every write
 * before it writes the clean-shutdown record, and retention waits for a segment's write
 * before it removes the files. A flush does not wait for the frames' writes an earlier
 * flush started: the batch after a roll would otherwise wait for two index files'
 * datasyncs that no acknowledgement needs.
 */
export async function flushLog(context: WriterContext): Promise<void> {
  syncOnOwnThread(activeSegment(context));
  const plan = planFlush(context);
  if (plan.sealed.length === 0 && plan.entries.length === 0 && plan.logs.length <= 1) {
    // The common flush, with no roll since the last one: the active segment's datasync is
    // all (none when nothing was written since). Awaited here, not through `syncLog` and a
    // `Promise.all` of one: every layer of promises is one more turn between the datasync's
    // completion and its waiters, paid by every durable batch. No segment of such a plan
    // is sealed, so none has a roll's sync running.
    const only = plan.logs[0];
    if (only !== undefined) {
      await only.segment.log.datasync();
      segmentDurableThrough(only.segment, only.size);
    }
  } else {
    await syncRolled(context, plan, plan.logs.map(syncLog));
  }
  for (const segment of plan.sealed) {
    // A sealed segment whose whole log is durable under its own name needs its write
    // handle and sync thread no more (its frames go through files of their own): they go
    // now rather than after its frames' turn in the queue, so that a run of rolls leaves no
    // trail of parked threads behind it. Closing never waits for the thread.
    releaseSyncThread(context, segment);
    if (sealedIndexDue(context, segment)) context.sealedWrites.start(segment, (sealed) => sealInBackground(context, sealed));
  }
  // Not a wait for the frames' writes still running from an earlier flush: nothing this
  // flush claims rests on them, and a failure of one poisons the log, and so fails the
  // flushes in flight, the moment it happens.
  context.sealedWrites.throwIfFailed();
}

/** One segment's datasync in a flush; a sealed segment's may be running since its roll, and covers every byte it holds. */
async function syncLog({ segment, size }: { segment: Segment; size: number }): Promise<void> {
  await (segment.sealSync ?? segment.log.datasync());
  segment.sealSync = null;
  segmentDurableThrough(segment, size);
}

/**
 * The rest of a flush after a roll, beside the logs' datasyncs (`logs`, in the plan's
 * order): the directory sync for segments created under their own names, and once the
 * sealed logs and those entries are durable, the sealed-offset checkpoint.
 */
async function syncRolled(context: WriterContext, plan: FlushPlan, logs: readonly Promise<void>[]): Promise<void> {
  const sealedLogs = logs.filter((_, position) => (plan.logs[position] as { segment: Segment }).segment.sealed);
  await whileRunning(logs, () => {
    for (const segment of plan.entries) ensureIndexFiles(context.io, segment);
  });
  const entries = syncEntries(context, plan.entries);
  await Promise.all([...logs, entries, checkpointSealed(context, plan, [...sealedLogs, entries])]);
}

/**
 * The active segment's async fdatasyncs run on an OS thread its `.log` handle owns, as the
 * journal's and wal-kv's do: every durable batch pays the hop to the syncing thread and
 * back once, and a parked thread of its own answers sooner than the shared libuv
 * threadpool, where the syncs would also queue behind other work (unlinks, scans, other
 * stores). Asked for by the first async flush that reaches the segment (a log that never
 * syncs asynchronously starts none); an Io without sync threads keeps its own `datasync`.
 */
function syncOnOwnThread(segment: Segment): void {
  if (segment.syncThread || segment.sealed) return;
  segment.syncThread = segment.log.useSyncThread?.() ?? false;
}

/**
 * A sealed segment's background work: its index frames, then its write handle and sync
 * thread go, where the flush could not release them yet. It starts once the flush that
 * made the frames due has resolved and its waiters have run: packing and writing the
 * frames (a few hundred microseconds for a 1 MiB segment) is no part of any
 * acknowledgement, and would otherwise sit between the flush's last fdatasync and the
 * batch it acknowledges. A tick rather than a later turn:
 * the ticks queued from a promise reaction run once the reactions queued so far (the
 * waiters' continuations) have, and still before any timer or I/O callback, so a failure
 * of these writes poisons the log before the caller's next turn can write.
 */
async function sealInBackground(context: WriterContext, segment: Segment): Promise<void> {
  await afterWaiters();
  await rewriteIndexFiles(context.io, segment);
  releaseSyncThread(context, segment);
}

/**
 * Resolves on the next tick: once the promise reactions queued so far have run (a flush's
 * waiters, and the flush a waiter's next batch asked for, which starts a microtask after
 * its call), and before any timer or I/O callback.
 */
export function afterWaiters(): Promise<void> {
  return new Promise<void>((resolve) => process.nextTick(resolve));
}

/**
 * A sealed segment whose log and index frames are durable syncs no more: the handle it was
 * written through is closed, and its thread with it (a read reopens the file). One still
 * under the prepared name keeps both until its rename (roll-settle.ts).
 */
export function releaseSyncThread(context: WriterContext, segment: Segment): void {
  if (segment.syncThread && segment.releaseFile()) context.files.forget(segment);
}

/**
 * Once the sealed segments' logs and every directory entry this flush syncs are durable
 * (`durable`), and before the flush resolves: the sealed-offset checkpoint names the end of
 * the last sealed segment, durably. Its write starts only after those syncs returned, so a
 * crash can never leave it without them; the next segment's own datasync runs meanwhile.
 */
async function checkpointSealed(context: WriterContext, plan: FlushPlan, durable: readonly Promise<unknown>[]): Promise<void> {
  await Promise.all(durable);
  if (writeSealedCheckpoint(context, plan)) await context.sealedCheckpoint.datasync();
}

/**
 * Writes the checkpoint when a sealed segment of the plan (one whose index frames are not
 * durable yet) now has its whole log durable under a durable entry, and ends past what the
 * checkpoint names; every segment before it was made so by an earlier flush. Returns
 * whether it wrote (the caller datasyncs).
 */
function writeSealedCheckpoint(context: WriterContext, plan: FlushPlan): boolean {
  let end = context.sealedCheckpoint.offset;
  for (const segment of plan.sealed) {
    if (segment.durableBytes >= segment.size && segment.entryDurable && !vouchedForByNext(context, segment)) end = Math.max(end, segment.nextOffset);
  }
  if (end === context.sealedCheckpoint.offset) return false;
  context.sealedCheckpoint.write(end);
  return true;
}

/**
 * Whether the header of the segment after `segment` says every segment before it was
 * durable: then it proves what the checkpoint would, once durable, and it is by the time
 * this flush resolves (a header not durable when the flush planned is one of its logs).
 */
function vouchedForByNext(context: WriterContext, segment: Segment): boolean {
  const next = segmentAfter(context, segment);
  return next !== undefined && (next.headerFlags & HEADER_FLAG_SEALED_DURABLE) !== 0;
}

/**
 * The segment after `segment`, searched from the end (the segments a flush asks about are
 * the newest few); undefined for the active one, or one retention deleted meanwhile.
 */
function segmentAfter(context: WriterContext, segment: Segment): Segment | undefined {
  const position = context.segments.lastIndexOf(segment);
  return position >= 0 ? context.segments[position + 1] : undefined;
}

/**
 * Runs `work` on this thread while `running` syncs are on the threadpool. When it throws,
 * those are waited for (settled, their failures seen by the guarded Io) before the error
 * goes on, so that no sync is left to fail unobserved.
 */
async function whileRunning(running: readonly Promise<unknown>[], work: () => void): Promise<void> {
  try {
    work();
  } catch (error) {
    await Promise.allSettled(running);
    throw error;
  }
}

/** One directory sync for the segments rolls created under their own names: it covers every entry made before it started. */
async function syncEntries(context: WriterContext, entries: readonly Segment[]): Promise<void> {
  if (entries.length === 0) return;
  await context.io.syncDir(context.dir);
  for (const segment of entries) segment.entryDurable = true;
}

/**
 * `flushLog` on the calling thread (`syncSync`, whose contract is to block): the same steps,
 * one after another, the sealed frames included. A sealed segment whose frames an async
 * flush is writing in the background is left to that write (it cannot be waited for here);
 * one that already failed fails this too.
 */
export function flushLogSync(context: WriterContext): void {
  context.sealedWrites.throwIfFailed();
  const plan = planFlush(context);
  for (const { segment, size } of plan.logs) {
    // Not the roll's sync, which may still run (a failure of it poisons the log all the same): this one returns here.
    segment.log.datasyncSync();
    segment.sealSync = null;
    segmentDurableThrough(segment, size);
  }
  if (plan.entries.length > 0) {
    for (const segment of plan.entries) ensureIndexFiles(context.io, segment);
    context.io.syncDirSync(context.dir);
    for (const segment of plan.entries) segment.entryDurable = true;
  }
  if (writeSealedCheckpoint(context, plan)) context.sealedCheckpoint.datasyncSync();
  for (const segment of plan.sealed) {
    if (!sealedIndexDue(context, segment)) continue;
    rewriteIndexFilesSync(context.io, segment);
    releaseSyncThread(context, segment);
  }
}

/**
 * A sealed segment's index frames go to disk once its whole log is durable and the next
 * segment's header and directory entry are too, never before, and once only (not while a
 * write of them runs). A segment still under the prepared name qualifies too: open finds
 * its log there. Retention may have deleted the segment while the flush waited: then
 * nothing is written.
 */
function sealedIndexDue(context: WriterContext, segment: Segment): boolean {
  if (!segment.sealed || segment.indexDurable || segment.indexWriting !== null || segment.durableBytes < segment.size) return false;
  const next = segmentAfter(context, segment);
  return next !== undefined && next.entryDurable && next.durableBytes >= HEADER_BYTES;
}

/** After a segment's fdatasync: its bytes through `size` are durable, and so the index entries pointing into them can be written. */
function segmentDurableThrough(segment: Segment, size: number): void {
  if (size > segment.durableBytes) segment.durableBytes = size;
  writeDurableEntries(segment, INDEX_WRITE_ENTRIES);
}

/** At close, after the final flush: the active segment's index files get every durable entry still waiting. */
export function writeIndexTail(context: WriterContext): void {
  writeDurableEntries(activeSegment(context));
}
