import { joinPath, renameDurably } from '@keel/core';
import { writeCompactedLog, type CompactedLog } from './compaction.js';
import { LOG_FORMAT_VERSION, LOG_HEADER_FRAME_BYTES, parseSnapshotFileName, snapshotFileName } from './format.js';
import { COMPACT_LOG_BYTES_MIN, SNAPSHOTS_KEPT } from './limits.js';
import { LogWriter } from './writer.js';
import { writeSnapshotFile } from './snapshot.js';
import { encodeSnapshot, type SnapshotMeta } from './snapshot-format.js';
import type { StoreState } from './wal-kv.js';
import { openView, releaseRetiredLogs, releaseView, type RetiredLog } from './views.js';
import { encodeCheckpointInSlices } from './checkpoint-slices.js';

export type MaintenanceTask = 'checkpoint' | 'compact';

/**
 * Checkpoints and compactions, one at a time. A checkpoint encodes the index through a
 * read view taken when it starts, a slice per turn of the event loop; a compaction
 * copies the live values synchronously (so the index cannot change underneath it). Both
 * do their writes and fsyncs off the event loop while writes continue.
 */
export class Maintenance {
  readonly #state: StoreState;
  #tail: Promise<void> = Promise.resolve();
  #running = 0;
  lastError: string | null = null;
  /** After a failed automatic compaction, wait for the log to grow before trying again. */
  compactRetryAt = 0;

  constructor(state: StoreState) {
    this.#state = state;
  }

  get busy(): boolean {
    return this.#running > 0;
  }

  run(task: MaintenanceTask): Promise<void> {
    this.#running++;
    const result = this.#tail.then(() => this.#perform(task)).finally(() => {
      this.#running--;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Starts a task nobody awaits: its failure is kept in `lastError` (and poisons where it must). */
  start(task: MaintenanceTask): void {
    this.run(task).catch((error: unknown) => {
      this.lastError = (error as { code?: string }).code ?? String(error);
      if (task === 'compact') this.compactRetryAt = this.#state.writer.end + COMPACT_LOG_BYTES_MIN;
    });
  }

  async idle(): Promise<void> {
    while (this.#running > 0) await this.#tail;
  }

  async #perform(task: MaintenanceTask): Promise<void> {
    const poison = this.#state.control.poisonedBy();
    if (poison !== null) throw poison;
    try {
      if (task === 'checkpoint') await this.#checkpoint();
      else await this.#compact();
    } catch (error) {
      // A failed write or sync has poisoned the store already (through its guarded Io);
      // anything else that stops a task halfway leaves state the store cannot trust. A
      // damaged value that compaction refused to copy is neither and leaves it usable.
      if ((error as { code?: string }).code !== 'KEEL_CORRUPT') this.#state.control.poison(error);
      throw error;
    }
  }

  async #checkpoint(): Promise<void> {
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
      frames = await encodeCheckpointInSlices(state, view, meta);
    } finally {
      releaseView(state, view);
    }
    state.snapshotBytes = byteLength(frames);
    // The snapshot may only point at log bytes that are durable.
    await state.control.flushedThrough(meta.seq);
    await writeSnapshotFile(state.io, state.dir, meta.seq, frames);
    this.#snapshotWritten(meta);
    this.#removeSnapshots((seq, index) => index >= SNAPSHOTS_KEPT && seq !== meta.seq);
  }

  async #compact(): Promise<void> {
    const state = this.#state;
    const { io } = state;
    this.#state.writer.flush();
    const oldGeneration = state.generation;
    const reader = state.writer; // the old log's writer, kept for reads during the copy
    const compacted = writeCompactedLog(io, state.dir, { version: LOG_FORMAT_VERSION, generation: state.generation + 1, baseSeq: state.lastSeq, storeId: state.storeId }, state.index, (keyCrc, position, length) => reader.readVerifiedField(keyCrc, position, length));
    this.#switchTo(compacted);
    // Read views taken before the switch may still read the old log: it is retired, not closed.
    const retired: RetiredLog = { writer: reader, settled: false, remove: false };
    state.retiredLogs.set(oldGeneration, retired);
    // The new log's snapshot is taken in the same turn as the switch, so it matches the
    // log's end exactly, and it is durable before the log is renamed into place: an
    // installed generation always has one (which also proves its records were durable).
    const meta = this.#snapshotMeta();
    const frames = encodeSnapshot(state.index, meta);
    state.snapshotBytes = byteLength(frames);
    state.switching = this.#install(compacted, meta.seq, frames);
    try {
      await state.switching;
    } catch (error) {
      // The store now writes to a log that may never be installed: nothing more may be
      // called durable. Reopening recovers the old generation.
      state.switching = null;
      await reader.settled();
      retired.settled = true;
      releaseRetiredLogs(state);
      throw error;
    }
    state.switching = null;
    this.#snapshotWritten(meta);
    state.compactions++;
    // A group commit that began before the switch may still be syncing the old file.
    await reader.settled();
    // Closed and removed now, or once the last read view older than the new log is released.
    Object.assign(retired, { settled: true, remove: true });
    releaseRetiredLogs(state);
    this.#removeSnapshots((seq) => seq !== meta.seq);
    await io.syncDir(state.dir);
  }

  /** Durable new log, then its snapshot, then the rename that makes open pick it. */
  async #install(compacted: CompactedLog, seq: number, frames: Uint8Array[]): Promise<void> {
    const { io } = this.#state;
    await compacted.file.datasync();
    await writeSnapshotFile(io, this.#state.dir, seq, frames);
    await renameDurably(io, compacted.temporaryPath, compacted.finalPath);
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

  /** Points the index and the writer at the new log; synchronous with the copy. */
  #switchTo(compacted: CompactedLog): void {
    const state = this.#state;
    state.index.table.relocate(compacted.slots, compacted.positions);
    state.writer = new LogWriter(compacted.file, compacted.generation, compacted.end, compacted.lastFrameStart, compacted.finalPath);
    state.index.deadBytes = 0;
    state.generation = compacted.generation;
    state.checkpointPosition = compacted.end;
  }

  /** Removes snapshot files chosen by (seq, rank from newest). Not synced: a snapshot that comes back is still valid or ignored. */
  #removeSnapshots(remove: (seq: number, rank: number) => boolean): void {
    const { io } = this.#state;
    const seqs = io
      .list(this.#state.dir)
      .map(parseSnapshotFileName)
      .filter((seq): seq is number => seq !== null)
      .sort((a, b) => b - a);
    seqs.forEach((seq, rank) => {
      if (remove(seq, rank)) io.remove(joinPath(this.#state.dir, snapshotFileName(seq)));
    });
  }
}

function byteLength(frames: readonly Uint8Array[]): number {
  let total = 0;
  for (const frame of frames) total += frame.length;
  return total;
}
