import { KeelError, joinPath, removeIfPresentAsync, renameDurably } from '@keel/core';
import { CompactionCopy } from './compaction.js';
import { LOG_FORMAT_VERSION, LOG_HEADER_FRAME_BYTES, parseSnapshotFileName, snapshotFileName } from './format.js';
import { COMPACT_LOG_BYTES_MIN, COMPACTION_CATCH_UP_PASSES, COMPACTION_SWITCH_BYTES, SNAPSHOTS_KEPT } from './limits.js';
import { LogWriter } from './writer.js';
import { writeSnapshotFile } from './snapshot.js';
import type { SnapshotMeta } from './snapshot-format.js';
import type { StoreState } from './wal-kv.js';
import { isPinned, openView, releaseRetiredLogs, releaseView, type RetiredLog } from './views.js';
import { encodeCheckpointInSlices, refreshOrderInSlices } from './checkpoint-slices.js';
import { SliceClock } from './slices.js';

export type MaintenanceTask = 'checkpoint' | 'compact';

/**
 * Checkpoints and compactions, one at a time, each cut into slices of a couple of
 * milliseconds with a turn of the event loop between them, so that writes, reads and
 * syncs go on meanwhile (their fsyncs run off the event loop). A checkpoint encodes the
 * index through a read view taken when it starts; a compaction copies the live records
 * while the store keeps writing to the old log, then, in one short turn, copies what was
 * written meanwhile and switches (see `CompactionCopy`). Closing the store abandons
 * automatic maintenance before its switch; an explicit `checkpoint()` or `compact()`
 * finishes first.
 */
export class Maintenance {
  readonly #state: StoreState;
  #tail: Promise<void> = Promise.resolve();
  #running = 0;
  #closing = false;
  lastError: string | null = null;
  /** After a failed automatic compaction, wait for the log to grow before trying again. */
  compactRetryAt = 0;

  constructor(state: StoreState) {
    this.#state = state;
  }

  get busy(): boolean {
    return this.#running > 0;
  }

  /** Runs `task` after the ones queued; `explicit` tasks (asked for by the user) are never abandoned. */
  run(task: MaintenanceTask, explicit = true): Promise<void> {
    this.#running++;
    const result = this.#tail.then(() => this.#perform(task, this.#clock(explicit))).finally(() => {
      this.#running--;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Starts a task nobody awaits: its failure is kept in `lastError` (and poisons where it must). */
  start(task: MaintenanceTask): void {
    this.run(task, false).catch((error: unknown) => {
      this.lastError = (error as { code?: string }).code ?? String(error);
      if (task === 'compact') this.compactRetryAt = this.#state.writer.end + COMPACT_LOG_BYTES_MIN;
    });
  }

  /** Abandons automatic maintenance (at its next slice, before any switch) and waits for the rest to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#running > 0) await this.#tail;
  }

  /** Slices that stop when the store is poisoned, or, for automatic tasks, closing. */
  #clock(explicit: boolean): SliceClock {
    return new SliceClock(() => {
      if (this.#closing && !explicit) return new KeelError('KEEL_CLOSED', 'the store was closed while automatic maintenance ran: it was abandoned, nothing on disk changed');
      return this.#state.control.poisonedBy();
    });
  }

  async #perform(task: MaintenanceTask, clock: SliceClock): Promise<void> {
    const stop = clock.stopped();
    if (stop !== null) throw stop;
    try {
      if (task === 'checkpoint') await this.#checkpoint(clock);
      else await this.#compact(clock);
    } catch (error) {
      // A failed write or sync has poisoned the store already (through its guarded Io);
      // anything else that stops a task halfway leaves state the store cannot trust. A
      // damaged record that compaction refused to copy, or a task abandoned by close
      // before it changed anything, is neither and leaves it usable.
      const code = (error as { code?: string }).code;
      if (code !== 'KEEL_CORRUPT' && code !== 'KEEL_CLOSED') this.#state.control.poison(error);
      throw error;
    }
  }

  async #checkpoint(clock: SliceClock): Promise<void> {
    const state = this.#state;
    if (state.snapshotSeq === state.lastSeq && state.snapshotGeneration === state.generation) return;
    this.#state.writer.flush();
    const meta = this.#snapshotMeta();
    // Counted from now, so a failing checkpoint is not retried on every write.
    state.checkpointPosition = meta.logPosition;
    // The index as of `meta`, encoded in slices while writes go on.
    const view = openView(state);
    let frames: Uint8Array[];
    try {
      frames = await encodeCheckpointInSlices(state, view, meta, clock);
    } finally {
      releaseView(state, view);
    }
    state.snapshotBytes = byteLength(frames);
    // The snapshot may only point at log bytes that are durable.
    await state.control.flushedThrough(meta.seq);
    await writeSnapshotFile(state.io, state.dir, meta.seq, frames);
    this.#snapshotWritten(meta);
    await this.#removeSnapshots((seq, index) => index >= SNAPSHOTS_KEPT && seq !== meta.seq);
  }

  async #compact(clock: SliceClock): Promise<void> {
    const state = this.#state;
    const { io } = state;
    state.writer.flush();
    const old = state.writer; // the old log's writer: the store writes to it until the switch
    const oldGeneration = state.generation;
    const header = { version: LOG_FORMAT_VERSION, generation: oldGeneration + 1, baseSeq: state.lastSeq, storeId: state.storeId };
    const copy = CompactionCopy.create(io, state.dir, header, { file: old.file, path: old.path, generation: oldGeneration });
    try {
      let copied = old.end;
      await copy.copyLive(LOG_HEADER_FRAME_BYTES, copied, state.index, clock);
      // The install's checkpoint walks the ordered view, which a run of deletes or new
      // keys leaves to be rebuilt (a sort of every key): bring it up to date here, while
      // writes go on, so that the install (which syncs wait for) merges only what changed
      // since.
      await refreshOrderInSlices(state.index.table, clock);
      // Catch up with what was written meanwhile until little is left for the switch.
      for (let pass = 0; pass < COMPACTION_CATCH_UP_PASSES && old.end - copied > COMPACTION_SWITCH_BYTES; pass++) {
        old.flush();
        const through = old.flushedThrough;
        await copy.copyFrames(copied, through, state.index, clock);
        copied = through;
      }
      // The switch, in this one turn: nothing can be written in between.
      old.flush();
      copy.copyFramesNow(copied, old.flushedThrough, state.index);
    } catch (error) {
      await copy.abandon(io);
      throw error;
    }
    this.#switchTo(copy);
    // Read views taken before the switch, and the index until its values are moved, may
    // still read the old log: it is retired, not closed.
    const retired: RetiredLog = { writer: old, settled: false, remove: false };
    state.retiredLogs.set(oldGeneration, retired);
    // Past the switch only poison stops the work: a close waits for it.
    const clockAfterSwitch = new SliceClock(() => state.control.poisonedBy());
    const install = this.#install(copy, clockAfterSwitch);
    // A flush waits for the install and fails with it (the store is poisoned then).
    state.switching = install.then(() => undefined);
    state.switching.catch(() => undefined);
    let meta: SnapshotMeta;
    try {
      meta = await install;
    } catch (error) {
      // The store now writes to a log that may never be installed: nothing more may be
      // called durable. Reopening recovers the old generation.
      state.switching = null;
      await old.settled();
      retired.settled = true;
      releaseRetiredLogs(state);
      throw error;
    }
    state.switching = null;
    this.#snapshotWritten(meta);
    state.compactions++;
    // A group commit that began before the switch may still be syncing the old file.
    await old.settled();
    // Nobody reads the old log unless a read view older than the new one pins it (no new
    // view can). Unpinned, it is closed and unlinked on the threadpool where the Io can (a
    // log of hundreds of megabytes frees its blocks for tens of milliseconds); pinned, it
    // is removed once the last read view older than the new log is released.
    Object.assign(retired, { settled: true, remove: true });
    if (!isPinned(state, oldGeneration)) {
      state.retiredLogs.delete(oldGeneration);
      old.file.closeSync();
      if (io.removeAsync === undefined) io.remove(old.path);
      else await io.removeAsync(old.path);
    }
    releaseRetiredLogs(state);
    await this.#removeSnapshots((seq) => seq !== meta.seq);
    await io.syncDir(state.dir);
  }

  /**
   * After the switch: the index's values moved to the new log, in slices; then the new
   * log's snapshot (the index as of now, through a view, in slices) while the log is made
   * durable; the snapshot written; and last the rename that makes open pick the new log.
   * An installed generation always has a snapshot (which also proves its records were
   * durable). Resolves to what the snapshot covers.
   */
  async #install(copy: CompactionCopy, clock: SliceClock): Promise<SnapshotMeta> {
    const state = this.#state;
    await copy.relocations.apply(state.index.table, clock);
    state.indexedFrom = state.generation;
    state.writer.flush();
    const meta = this.#snapshotMeta();
    // The new log's datasync runs beside the snapshot's encoding and its write (a
    // sync waits for the whole install: every fsync overlapped is a wait less).
    const logDurable = copy.file.datasync();
    logDurable.catch(() => undefined); // awaited below, unless the encoding fails first
    const view = openView(state);
    let frames: Uint8Array[];
    try {
      frames = await encodeCheckpointInSlices(state, view, meta, clock);
    } finally {
      releaseView(state, view);
    }
    state.snapshotBytes = byteLength(frames);
    await writeSnapshotFile(state.io, state.dir, meta.seq, frames, logDurable);
    await renameDurably(state.io, copy.temporaryPath, copy.finalPath);
    return meta;
  }

  /** What a snapshot taken now covers: everything written, which the caller flushed. */
  #snapshotMeta(): SnapshotMeta {
    const state = this.#state;
    const logPosition = state.writer.end;
    return {
      storeId: state.storeId,
      generation: state.generation,
      seq: state.lastSeq,
      logPosition,
      lastFrameOffset: logPosition === LOG_HEADER_FRAME_BYTES ? 0 : state.writer.lastFrameStart,
      deadBytes: state.index.deadBytes,
      entryCount: state.index.size,
    };
  }

  #snapshotWritten(meta: SnapshotMeta): void {
    this.#state.snapshotSeq = meta.seq;
    this.#state.snapshotGeneration = meta.generation;
    this.#state.checkpointsWritten++;
  }

  /**
   * Points the writer at the new log, in the turn its copy ended; the index's values are
   * in the previous log until moved (`Relocations`). The new log holds every record of
   * the old one but the dead puts and the deletes `copyLive` left behind, so its dead
   * bytes are the old log's less those.
   */
  #switchTo(copy: CompactionCopy): void {
    const state = this.#state;
    state.index.table.switchLog();
    state.indexedFrom = state.generation; // the old generation, until the values are moved
    state.writer = new LogWriter(copy.file, copy.generation, copy.end, copy.lastFrameStart, copy.finalPath);
    state.index.deadBytes = Math.max(0, state.index.deadBytes - copy.uncopiedBytes);
    state.generation = copy.generation;
    state.checkpointPosition = copy.end;
  }

  /**
   * Removes snapshot files chosen by (seq, rank from newest), on the threadpool where the
   * Io can (a snapshot of millions of keys is hundreds of megabytes: unlinking it frees
   * blocks for tens of milliseconds). Not synced: a snapshot that comes back is still
   * valid or ignored.
   */
  async #removeSnapshots(remove: (seq: number, rank: number) => boolean): Promise<void> {
    const { io } = this.#state;
    const seqs = io
      .list(this.#state.dir)
      .map(parseSnapshotFileName)
      .filter((seq): seq is number => seq !== null)
      .sort((a, b) => b - a);
    for (const [rank, seq] of seqs.entries()) {
      if (remove(seq, rank)) await removeIfPresentAsync(io, joinPath(this.#state.dir, snapshotFileName(seq)));
    }
  }
}

function byteLength(frames: readonly Uint8Array[]): number {
  let total = 0;
  for (const frame of frames) total += frame.length;
  return total;
}
