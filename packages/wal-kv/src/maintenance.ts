import { joinPath } from '@keel/core';
import { writeCompactedLog, type CompactedLog } from './compaction.js';
import { LOG_HEADER_FRAME_BYTES, parseSnapshotFileName, snapshotFileName } from './format.js';
import { COMPACT_LOG_BYTES_MIN, SNAPSHOTS_KEPT } from './limits.js';
import { LogWriter } from './log-writer.js';
import { writeSnapshotFile } from './snapshot.js';
import { encodeSnapshot, type SnapshotMeta } from './snapshot-format.js';
import type { StoreState } from './wal-kv.js';

export type MaintenanceTask = 'snapshot' | 'compact';

/**
 * Snapshots and compactions, one at a time. Both capture what they write synchronously
 * (so the index cannot change underneath them) and do their fsyncs off the event loop
 * while writes continue.
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
    const poison = this.#state.lifecycle.poisoned;
    if (poison !== null) throw poison;
    if (task === 'snapshot') await this.#snapshot();
    else await this.#compact();
  }

  #flush(): void {
    try {
      this.#state.writer.flush();
    } catch (error) {
      this.#state.lifecycle.poison(error);
      this.#state.commit.poison(error);
      throw error;
    }
  }

  async #snapshot(): Promise<void> {
    const state = this.#state;
    if (state.snapshotSeq === state.lastSeq && state.snapshotGeneration === state.generation) return;
    this.#flush();
    const logPosition = state.writer.end;
    const meta: SnapshotMeta = {
      generation: state.generation,
      seq: state.lastSeq,
      logPosition,
      lastFrameOffset: logPosition === LOG_HEADER_FRAME_BYTES ? 0 : state.writer.lastFrameStart,
      deadBytes: state.index.deadBytes,
      entryCount: state.index.size,
    };
    const frames = encodeSnapshot(state.index, meta);
    // Counted from now, so a failing snapshot is not retried on every write.
    state.snapshotPosition = logPosition;
    // The snapshot may only point at log bytes that are durable.
    await state.commit.syncThrough(meta.seq);
    await writeSnapshotFile(state.options.io, state.dir, meta.seq, frames);
    state.snapshotSeq = meta.seq;
    state.snapshotGeneration = meta.generation;
    state.snapshotsWritten++;
    this.#removeSnapshots((seq, index) => index >= SNAPSHOTS_KEPT && seq !== meta.seq);
  }

  async #compact(): Promise<void> {
    const state = this.#state;
    const { io } = state.options;
    this.#flush();
    const oldFile = state.writer.file;
    const oldPath = state.writer.path;
    const reader = state.writer; // the old log's writer, kept for reads during the copy
    const compacted = writeCompactedLog(io, state.dir, state.generation + 1, state.lastSeq, state.index, (position, length) => reader.readValue(position, length));
    this.#switchTo(compacted);
    state.switching = this.#install(compacted);
    try {
      await state.switching;
    } catch (error) {
      // The store now writes to a log that may never be installed: nothing more may be
      // called durable. Reopening recovers the old generation.
      state.lifecycle.poison(error);
      state.commit.poison(error);
      state.switching = null;
      await reader.settled();
      oldFile.closeSync();
      throw error;
    }
    state.switching = null;
    state.compactions++;
    // A group commit that began before the switch may still be syncing the old file.
    await reader.settled();
    oldFile.closeSync();
    try {
      await this.#snapshot();
    } finally {
      io.remove(oldPath);
      const keep = state.snapshotGeneration === state.generation ? state.snapshotSeq : null;
      this.#removeSnapshots((seq) => seq !== keep);
      await io.syncDir(state.dir);
    }
  }

  /** Points the index and the writer at the new log; synchronous with the copy. */
  #switchTo(compacted: CompactedLog): void {
    const state = this.#state;
    for (let i = 0; i < compacted.slots.length; i++) state.index.relocate(compacted.slots[i]!, compacted.positions[i]!);
    state.writer = new LogWriter(compacted.file, compacted.end, compacted.lastFrameStart, compacted.finalPath);
    state.index.deadBytes = 0;
    state.generation = compacted.generation;
    state.snapshotPosition = compacted.end;
  }

  /** The new log becomes the one open picks: durable first, then renamed into place. */
  async #install(compacted: CompactedLog): Promise<void> {
    const { io } = this.#state.options;
    await compacted.file.datasync();
    io.rename(compacted.temporaryPath, compacted.finalPath);
    await io.syncDir(this.#state.dir);
  }

  /** Removes snapshot files chosen by (seq, rank from newest). Not synced: a snapshot that comes back is still valid or ignored. */
  #removeSnapshots(remove: (seq: number, rank: number) => boolean): void {
    const { io } = this.#state.options;
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
