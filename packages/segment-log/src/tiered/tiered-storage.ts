import { KeelError, joinPath, type Io } from '@keel/core';

import type { ReadLimits } from '../reader.js';
import type { LogRecord } from '../record.js';
import type { RetentionLimits } from '../retention.js';
import type { Segment } from '../segment.js';
import { CopyQuota } from './copy-quota.js';
import { OffloadJournal } from './offload-journal.js';
import type { RemoteCopy } from './offload-state.js';
import { PrefixedStore } from './prefixed-store.js';
import { contiguousCopies, copyHolding, firstCopyReaching } from './remote-range.js';
import { RemoteSegmentReader, type FinishedCopy } from './remote-segment-reader.js';
import { SegmentUploader } from './segment-uploader.js';
import type { NormalizedTiered } from './tiered-options.js';

/** The offload journal's file name in the log's directory (KIP-405's remote log metadata). */
export const OFFLOAD_JOURNAL_NAME = 'remote-log-metadata';

/** Deletes local segments from the oldest while the predicate says so (the log's retention.ts, under its maintenance lock). */
export type DeleteLocal = (shouldDelete: (segment: Segment) => boolean) => Promise<number>;

export interface TieredStats {
  /** Copies made (and the bytes put for them), deleted, and tries that failed (and will be tried again), since open. */
  copied: number;
  copiedBytes: number;
  deleted: number;
  failedTries: number;
  /** Uploads and deletes waiting. */
  queued: number;
  /** Segments only in the remote store, and their bytes. */
  remoteSegments: number;
  remoteBytes: number;
  /** Range and whole-object reads of the remote store, and their bytes. */
  fetches: number;
  fetchedBytes: number;
  cacheBytes: number;
}

/**
 * A segment log's tiered storage (KIP-405): the offload journal, the uploader that copies
 * sealed segments in the background, and the reader for offsets below the local start.
 * The facade calls it at its hook points (open, flush, retention, reads, close); every
 * decision about what may be deleted where is made here.
 */
export class TieredStorage {
  readonly #journal: OffloadJournal;
  readonly #uploader: SegmentUploader | null;
  readonly #reader: RemoteSegmentReader;
  readonly #options: NormalizedTiered;
  /** Copies retention has retired (their delete-started is recorded or being recorded). */
  readonly #retired = new Set<string>();
  /** Segments handed to the uploader. */
  readonly #offered = new Set<number>();
  /** Everything below this was deleted by retention or deleteBefore: a copy of it that finishes late is retired. */
  #floor = 0;
  /** Retirements under way: close waits for them, and none starts after it began. */
  readonly #retiring = new Set<Promise<void>>();
  #closing = false;
  #remoteMemo: { localStart: number; version: number; retired: number; chain: FinishedCopy[] } | null = null;

  private constructor(journal: OffloadJournal, io: Io, options: NormalizedTiered, readOnly: boolean, onCopied: () => void) {
    this.#journal = journal;
    this.#options = options;
    const store = new PrefixedStore(options.remote, options.prefix);
    this.#reader = new RemoteSegmentReader(store, options.cacheBytes);
    this.#uploader = readOnly ? null : new SegmentUploader({
      store,
      journal,
      io,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
      quota: new CopyQuota(options.copyBytesPerSecond),
      onError: options.onError === undefined ? undefined : (error) => options.onError?.(error),
      onCopied: (copy) => {
        if (copy.nextOffset !== undefined && copy.nextOffset <= this.#floor) void this.#retire(copy).catch(() => undefined);
        else onCopied();
      },
    });
  }

  /**
   * Opens the offload journal in `dir` and starts the uploader. Read-only: the journal is
   * replayed without changing it and no uploader runs; a log that never offloaded
   * anything (no journal) opens as a local log (null).
   */
  static async open(dir: string, io: Io, options: NormalizedTiered, readOnly: boolean, onCopied: () => void): Promise<TieredStorage | null> {
    const path = joinPath(dir, OFFLOAD_JOURNAL_NAME);
    if (readOnly && io.stat(path) === null) return null;
    const journal = await OffloadJournal.open(path, { io, readOnly });
    return new TieredStorage(journal, io, options, readOnly, onCopied);
  }

  /**
   * Hands every sealed segment that is whole on disk (log and sealed indexes durable) and
   * has no finished copy to the uploader, once it has its own name (the uploader reads it by
   * that name; see roll-settle.ts). Called after each flush and rename; never waits.
   */
  offerSealed(segments: readonly Segment[]): void {
    // Close's final flush comes after the uploader stopped: what it seals is offered at the next open.
    if (this.#uploader === null || this.#closing) return;
    for (const segment of segments) {
      if (!segment.sealed || !segment.indexDurable || segment.durableBytes < segment.size || segment.records === 0 || segment.preparedPath !== null) continue;
      if (this.#offered.has(segment.baseOffset)) continue;
      this.#offered.add(segment.baseOffset);
      this.#uploader.enqueue({ baseOffset: segment.baseOffset, nextOffset: segment.nextOffset, maxTimestamp: segment.maxTimestamp, paths: segment.paths });
    }
  }

  /** The finished copies below the local start that reach it without a gap: the remote part of the log. */
  remoteCopies(localStart: number): FinishedCopy[] {
    // Every read asks (through startOffset): recompute only when the journal, the retired set or the local start changed.
    const memo = this.#remoteMemo;
    if (memo !== null && memo.localStart === localStart && memo.version === this.#journal.version && memo.retired === this.#retired.size) return memo.chain;
    const finished = this.#journal.copies().filter((copy): copy is RemoteCopy & FinishedCopy => copy.state === 'copied' && !this.#retired.has(copy.copyId));
    const chain = contiguousCopies(finished, localStart);
    this.#remoteMemo = { localStart, version: this.#journal.version, retired: this.#retired.size, chain };
    return chain;
  }

  startOffset(localStart: number): number {
    return this.remoteCopies(localStart)[0]?.baseOffset ?? localStart;
  }

  /** Records from `offset` (below the local start) to the end of the remote segment holding it at most. */
  read(localStart: number, offset: number, limits: ReadLimits, signal?: AbortSignal): Promise<LogRecord[]> {
    const copy = copyHolding(this.remoteCopies(localStart), offset);
    if (copy === undefined) return Promise.reject(new KeelError('KEEL_NOT_FOUND', `offset ${offset} is not in the log's remote segments (the log starts at ${this.startOffset(localStart)})`));
    return this.#reader.read(copy, offset, limits, signal);
  }

  /** Whether the answer to a timestamp lookup lies in a remote segment. */
  holdsTimestamp(localStart: number, timestamp: number): boolean {
    return firstCopyReaching(this.remoteCopies(localStart), timestamp) !== undefined;
  }

  /** The first remote offset with a timestamp >= `timestamp`, or undefined when every remote record is older. */
  async offsetForTimestamp(localStart: number, timestamp: number, signal?: AbortSignal): Promise<number | undefined> {
    const copy = firstCopyReaching(this.remoteCopies(localStart), timestamp);
    return copy === undefined ? undefined : this.#reader.offsetForTimestamp(copy, timestamp, signal);
  }

  /**
   * Retention across both tiers, oldest first. Total retention (`limits`) counts remote and
   * local bytes together and deletes remote copies first, then local segments with their
   * copies; local retention deletes a local segment only once its copy is finished and
   * durable, so a store that is away makes the disk grow rather than lose a record.
   * Returns how many segments left the log or the local disk.
   */
  async enforceRetention(segments: readonly Segment[], limits: RetentionLimits, deleteLocal: DeleteLocal): Promise<number> {
    const localStart = (segments[0] as Segment).baseOffset;
    const remote = this.remoteCopies(localStart);
    let total = remote.reduce((sum, copy) => sum + copy.files.log.bytes, 0) + segments.reduce((sum, segment) => sum + segment.size, 0);
    let localTotal = segments.reduce((sum, segment) => sum + segment.size, 0);
    const expired = (maxTimestamp: number): boolean => total > limits.bytes || maxTimestamp < limits.now - limits.ms;
    let olderKept = false;
    let retired = 0;
    for (const copy of remote) {
      if (!expired(copy.maxTimestamp)) {
        olderKept = true;
        break;
      }
      total -= copy.files.log.bytes;
      await this.#retire(copy);
      retired++;
    }
    const leaving: Segment[] = [];
    const deleted = await deleteLocal((segment) => {
      const byTotal = !olderKept && expired(segment.maxTimestamp);
      const byLocal = this.#copied(segment) && (localTotal > this.#options.localRetentionBytes || segment.maxTimestamp < limits.now - this.#options.localRetentionMs);
      if (!byTotal && !byLocal) return false;
      if (byTotal) {
        total -= segment.size;
        leaving.push(segment);
      } else {
        // It stays in the log, remotely: nothing after it may leave the log.
        olderKept = true;
      }
      localTotal -= segment.size;
      return true;
    });
    await this.#retireSegments(leaving.slice(0, deleted));
    return retired + deleted;
  }

  /**
   * Whether a retention pass could delete anything now: total retention is set, or the
   * oldest local segment is copied and past local retention. Lets the log skip passes
   * (each waits for the flush in flight) while the uploader has not caught up.
   */
  retentionDue(segments: readonly Segment[], limits: RetentionLimits): boolean {
    if (limits.bytes < Number.MAX_SAFE_INTEGER || limits.ms < Number.MAX_SAFE_INTEGER) return true;
    const oldest = segments[0] as Segment;
    if (segments.length < 2 || !oldest.sealed || !this.#copied(oldest)) return false;
    const localBytes = segments.reduce((sum, segment) => sum + segment.size, 0);
    return localBytes > this.#options.localRetentionBytes || oldest.maxTimestamp < limits.now - this.#options.localRetentionMs;
  }

  /** deleteBefore across both tiers: remote copies wholly below `offset` are retired, then local segments go as before. */
  async deleteBefore(localStart: number, offset: number, deleteLocal: DeleteLocal): Promise<number> {
    let retired = 0;
    for (const copy of this.remoteCopies(localStart)) {
      if (copy.nextOffset > offset) break;
      await this.#retire(copy);
      retired++;
    }
    const leaving: Segment[] = [];
    const deleted = await deleteLocal((segment) => {
      if (segment.nextOffset > offset) return false;
      leaving.push(segment);
      return true;
    });
    await this.#retireSegments(leaving.slice(0, deleted));
    return retired + deleted;
  }

  /** A segment whose local files may go: its copy is finished and durable (or it holds nothing to copy). */
  #copied(segment: Segment): boolean {
    return segment.records === 0 || this.#journal.finishedCopy(segment.baseOffset) !== undefined;
  }

  async #retireSegments(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) {
      this.#floor = Math.max(this.#floor, segment.nextOffset);
      const copy = this.#journal.finishedCopy(segment.baseOffset);
      if (copy !== undefined) await this.#retire(copy);
    }
  }

  /**
   * Takes a copy out of the log: at once in memory, durably once its delete-started is
   * recorded. A retirement that close cuts off is redone by retention after the next open.
   */
  async #retire(copy: { baseOffset: number; copyId: string; nextOffset?: number }): Promise<void> {
    this.#retired.add(copy.copyId);
    if (copy.nextOffset !== undefined) this.#floor = Math.max(this.#floor, copy.nextOffset);
    if (this.#uploader === null || this.#closing) return;
    const retiring = this.#uploader.deleteCopy(copy.baseOffset);
    this.#retiring.add(retiring);
    try {
      await retiring;
    } finally {
      this.#retiring.delete(retiring);
    }
  }

  /** Resolves once every upload and delete queued so far is done (tests, benchmarks, a clean shutdown). */
  idle(): Promise<void> {
    return this.#uploader?.idle() ?? Promise.resolve();
  }

  stats(localStart: number): TieredStats {
    const uploader = this.#uploader?.stats() ?? { copied: 0, copiedBytes: 0, deleted: 0, failedTries: 0, queued: 0 };
    const remote = this.remoteCopies(localStart);
    const reader = this.#reader.stats();
    return {
      copied: uploader.copied,
      copiedBytes: uploader.copiedBytes,
      deleted: uploader.deleted,
      failedTries: uploader.failedTries,
      queued: uploader.queued,
      remoteSegments: remote.length,
      remoteBytes: remote.reduce((sum, copy) => sum + copy.files.log.bytes, 0),
      fetches: reader.fetches,
      fetchedBytes: reader.fetchedBytes,
      cacheBytes: reader.cacheBytes,
    };
  }

  /** Stops the uploader (what is in flight stays "started", for the next open to clean up), then closes the journal. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#retiring]);
    try {
      await this.#uploader?.close();
    } finally {
      await this.#journal.close();
    }
  }
}
