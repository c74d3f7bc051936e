import {
  createDirectoryDurably,
  DurabilityDriver,
  GroupCommit,
  KeelError,
  Lifecycle,
  assertArray,
  assertPosition,
  badArgument,
  describeType,
  joinPath,
  syncsOnClose,
  throwIfAborted,
  type IoFile,
  type RecoveryReport,
  lockStoreDirectory,
} from '@keel/core';
import type { SealedFileCache } from './file-cache.js';
import { LOCK_FILE_NAME } from './format.js';
import { normalizeOptions, type NormalizedOptions, type SegmentLogOptions } from './options.js';
import { READ_BYTES_DEFAULT, offsetForTimestamp, readRecords } from './reader.js';
import { prepareRecord, type AppendRecord, type LogRecord } from './record.js';
import { recoverLog } from './recovery.js';
import { deleteOldestWhile, retentionPredicate } from './retention.js';
import type { Segment } from './segment.js';
import { scanRecords } from './segment-scan.js';
import { verifySegment, type VerifyReport } from './verify.js';
import { activeSegment, appendPrepared, flushLog, flushLogSync, roll, type WriterContext } from './writer.js';

export interface ReadOptions {
  /** Stop before a record that would take the frames returned past this many bytes (the first record is always returned). Default 1 MiB. */
  maxBytes?: number;
  /** Default: no limit beyond maxBytes. */
  maxRecords?: number;
}

export interface StreamOptions {
  /** First offset to yield; defaults to `startOffset`. */
  from?: number;
  /** Wait for new records at the end instead of finishing. */
  follow?: boolean;
  /** Stops the stream with KEEL_ABORTED (the signal's reason as its cause) when aborted. */
  signal?: AbortSignal;
}

export interface SegmentInfo {
  baseOffset: number;
  bytes: number;
  records: number;
  /** null for an empty segment. */
  minTimestamp: number | null;
  maxTimestamp: number | null;
  sealed: boolean;
}

export interface SegmentLogStats {
  segments: number;
  bytes: number;
  records: number;
  startOffset: number;
  nextOffset: number;
  durableOffset: number;
  flushes: number;
  poisoned: boolean;
  closed: boolean;
}

/** Records read per step of a stream. */
const STREAM_BATCH_BYTES = 1024 * 1024;

/**
 * A Kafka-style partition log: numbered segments with sparse offset and time indexes,
 * rolling by size and age, retention by size and age, and recovery on open.
 */
export class SegmentLog implements AsyncDisposable {
  readonly #dir: string;
  readonly #options: NormalizedOptions;
  readonly #lock: IoFile;
  readonly #segments: Segment[];
  readonly #report: RecoveryReport;
  readonly #lifecycle = new Lifecycle('segment log');
  readonly #commit: GroupCommit;
  readonly #driver: DurabilityDriver;
  readonly #context: WriterContext;
  #maintenance: Promise<unknown> = Promise.resolve();
  readonly #waiters = new Set<() => void>();

  private constructor(dir: string, options: NormalizedOptions, lock: IoFile, segments: Segment[], report: RecoveryReport, files: SealedFileCache) {
    this.#dir = dir;
    this.#options = options;
    this.#lock = lock;
    this.#segments = segments;
    this.#report = report;
    this.#context = { io: options.io, dir, options, segments, files, onRoll: () => this.#afterRoll() };
    this.#commit = new GroupCommit(
      { writtenThrough: () => this.nextOffset, flush: () => flushLog(this.#context), flushSync: () => flushLogSync(this.#context) },
      this.nextOffset,
      (error) => this.#lifecycle.poison(error),
    );
    this.#driver = new DurabilityDriver(options.durability, this.#commit);
  }

  /**
   * Opens (creating when missing) the log in `dir`, takes its lock and recovers it:
   * nothing on disk changes when the arguments are bad or the files are not ours.
   */
  static async open(dir: string, options: SegmentLogOptions = {}): Promise<SegmentLog> {
    const normalized = normalizeOptions(dir, options);
    const { io } = normalized;
    await createDirectoryDurably(io, dir);
    const lockPath = joinPath(dir, LOCK_FILE_NAME);
    const lockExisted = io.stat(lockPath) !== null;
    const lock = lockStoreDirectory(io, dir);
    try {
      const { segments, report, files } = await recoverLog(dir, normalized);
      return new SegmentLog(dir, normalized, lock, segments, report, files);
    } catch (error) {
      // Leave a refused directory as we found it (unlinking while still holding the lock);
      // the refusal is what the caller needs to see, so a failed unlink is not reported.
      if (!lockExisted) {
        try {
          io.remove(lockPath);
        } catch {
          // A lock file left behind is harmless: the next open reuses it.
        }
      }
      lock.closeSync();
      throw error;
    }
  }

  get startOffset(): number {
    return (this.#segments[0] as Segment).baseOffset;
  }

  get nextOffset(): number {
    return activeSegment(this.#context).nextOffset;
  }

  /** Every offset below this one is durable. */
  get durableOffset(): number {
    return this.#commit.durableThrough;
  }

  get recovery(): RecoveryReport {
    return this.#report;
  }

  /** Appends one record; returns its offset. */
  append(record: AppendRecord): number {
    this.#lifecycle.assertWritable();
    return this.#write([prepareRecord(record, this.#options.now(), 'record')]);
  }

  /** Appends records in order (one write per segment they land in); returns the first one's offset. */
  appendBatch(records: readonly AppendRecord[]): number {
    this.#lifecycle.assertWritable();
    assertArray(records, 'records');
    const now = this.#options.now();
    const prepared = records.map((record, index) => prepareRecord(record, now, `records[${index}]`));
    if (prepared.length === 0) return this.nextOffset;
    return this.#write(prepared);
  }

  #write(prepared: Parameters<typeof appendPrepared>[1]): number {
    let first: number;
    try {
      first = appendPrepared(this.#context, prepared);
    } catch (error) {
      this.#poison(error);
      throw error;
    }
    this.#driver.afterWrite();
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return first;
  }

  /**
   * Seals the active segment now (as Kafka's `roll`) and starts a new one; returns the
   * new segment's base offset. A no-op on an empty active segment.
   */
  roll(): number {
    this.#lifecycle.assertWritable();
    if (activeSegment(this.#context).records > 0) {
      try {
        roll(this.#context);
      } catch (error) {
        this.#poison(error);
        throw error;
      }
    }
    return this.nextOffset;
  }

  #poison(error: unknown): void {
    this.#lifecycle.poison(error);
    this.#commit.poison(error);
  }

  /** Makes every record appended so far durable; resolves with the durable offset. */
  async sync(): Promise<number> {
    this.#lifecycle.assertWritable();
    return this.#commit.sync();
  }

  /**
   * `sync` on the calling thread: one fdatasync of the active segment (records are written
   * to the OS as they are appended) before it returns the durable offset. It blocks the
   * event loop for that fdatasync and shares the async path's group commit: it claims only
   * what was written before its fdatasync began, and a failure poisons the log.
   */
  syncSync(): number {
    this.#lifecycle.assertWritable();
    return this.#commit.syncSync();
  }

  read(offset: number, options: ReadOptions = {}): LogRecord[] {
    this.#lifecycle.assertOpen();
    assertPosition(offset, 'offset');
    if (options === null || typeof options !== 'object') throw badArgument(`read options must be an object, got ${describeType(options)}`);
    const maxBytes = positiveInteger(options.maxBytes, 'maxBytes', READ_BYTES_DEFAULT);
    const maxRecords = positiveInteger(options.maxRecords, 'maxRecords', Number.MAX_SAFE_INTEGER);
    this.#assertInRange(offset);
    if (offset === this.nextOffset) return [];
    return readRecords(this.#segments, offset, { maxBytes, maxRecords });
  }

  #assertInRange(offset: number): void {
    if (offset < this.startOffset || offset > this.nextOffset) {
      throw new KeelError('KEEL_NOT_FOUND', `offset ${offset} is outside the log [${this.startOffset}, ${this.nextOffset}]`);
    }
  }

  /** Yields records from `from`; with `follow`, waits for new ones until aborted or closed. */
  stream(options: StreamOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    this.#lifecycle.assertOpen();
    if (options === null || typeof options !== 'object') throw badArgument(`stream options must be an object, got ${describeType(options)}`);
    const from = options.from ?? this.startOffset;
    assertPosition(from, 'from');
    this.#assertInRange(from);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw badArgument(`signal must be an AbortSignal, got ${describeType(options.signal)}`);
    return this.#stream(from, options.follow === true, options.signal);
  }

  async *#stream(from: number, follow: boolean, signal: AbortSignal | undefined): AsyncGenerator<LogRecord, void, undefined> {
    let next = from;
    for (;;) {
      throwIfAborted(signal);
      if (this.#lifecycle.closed) return;
      if (next < this.nextOffset) {
        for (const record of this.read(next, { maxBytes: STREAM_BATCH_BYTES })) {
          yield record;
          next = record.offset + 1;
          throwIfAborted(signal);
        }
        continue;
      }
      if (!follow) return;
      await this.#nextAppend(signal);
    }
  }

  #nextAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** First offset whose timestamp is >= `timestamp`, or undefined when none is. */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.#lifecycle.assertOpen();
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) throw badArgument(`timestamp must be a safe integer, got ${describeType(timestamp)}`);
    return offsetForTimestamp(this.#segments, timestamp);
  }

  /** Deletes whole sealed segments whose every offset is below `offset`; returns how many. */
  deleteBefore(offset: number): Promise<number> {
    this.#lifecycle.assertWritable();
    assertPosition(offset, 'offset');
    return this.#maintain(() => deleteOldestWhile(this.#options.io, this.#dir, this.#segments, (segment) => segment.nextOffset <= offset));
  }

  /** Applies `retention` (bytes, then age), oldest sealed segment first; returns how many were deleted. */
  enforceRetention(): Promise<number> {
    this.#lifecycle.assertWritable();
    return this.#maintain(() => {
      const limits = { bytes: this.#options.retentionBytes, ms: this.#options.retentionMs, now: this.#options.now() };
      return deleteOldestWhile(this.#options.io, this.#dir, this.#segments, retentionPredicate(this.#segments, limits));
    });
  }

  /** Retention runs one at a time, after any flush in flight (which may still use the files). */
  #maintain(task: () => Promise<number>): Promise<number> {
    const run = this.#maintenance.then(async () => {
      await this.#commit.drain();
      try {
        return await task();
      } catch (error) {
        this.#poison(error);
        throw error;
      }
    });
    this.#maintenance = run.catch(() => undefined);
    return run;
  }

  /** A roll is made durable by the next flush, in every durability mode: ask for it now. */
  #afterRoll(): void {
    this.#commit.request();
    this.#retentionAfterRoll();
  }

  #retentionAfterRoll(): void {
    if (this.#options.retentionBytes === Number.MAX_SAFE_INTEGER && this.#options.retentionMs === Number.MAX_SAFE_INTEGER) return;
    // Failures poison the log (seen by the next call); nothing else waits on this promise.
    this.enforceRetention().catch(() => undefined);
  }

  segments(): SegmentInfo[] {
    this.#lifecycle.assertOpen();
    return this.#segments.map((segment) => ({
      baseOffset: segment.baseOffset,
      bytes: segment.size,
      records: segment.records,
      minTimestamp: segment.records === 0 ? null : minTimestampOf(segment),
      maxTimestamp: segment.records === 0 ? null : segment.maxTimestamp,
      sealed: segment.sealed,
    }));
  }

  /** Reads every segment in full and checks every frame and index entry; throws KEEL_CORRUPT with path and byte offset. */
  async verify(): Promise<VerifyReport> {
    this.#lifecycle.assertOpen();
    const report: VerifyReport = { segments: 0, records: 0, bytes: 0 };
    for (const segment of [...this.#segments]) {
      if (this.#lifecycle.closed) throw new KeelError('KEEL_CLOSED', 'segment log closed during verify');
      if (!this.#segments.includes(segment)) continue;
      verifySegment(segment);
      report.segments++;
      report.records += segment.records;
      report.bytes += segment.size;
      // Let other work run between segments: a verify of a large log takes a while.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return report;
  }

  stats(): SegmentLogStats {
    return {
      segments: this.#segments.length,
      bytes: this.#segments.reduce((sum, segment) => sum + segment.size, 0),
      records: this.nextOffset - this.startOffset,
      startOffset: this.startOffset,
      nextOffset: this.nextOffset,
      durableOffset: this.durableOffset,
      flushes: this.#commit.flushCount,
      poisoned: this.#lifecycle.poisoned !== null,
      closed: this.#lifecycle.closed,
    };
  }

  /**
   * Idempotent. Ends with a sync unless durability is 'none' or the log is poisoned;
   * files and the lock are released even when that sync fails (then close rejects with
   * the error). A poisoned log's close rejects with KEEL_POISONED: core's Lifecycle says so.
   */
  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      for (const wake of [...this.#waiters]) wake();
      this.#driver.stop();
      let failure: unknown = null;
      try {
        await this.#maintenance;
        if (syncsOnClose(this.#options.durability) && this.#lifecycle.poisoned === null) await this.#commit.sync();
        await this.#commit.drain();
      } catch (error) {
        failure = error;
      }
      for (const segment of this.#segments) segment.closeFiles();
      this.#lock.closeSync();
      if (failure !== null) throw failure;
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw badArgument(`${name} must be a positive integer, got ${describeType(value)}`);
  return value;
}

/** Sealed segments loaded from disk learn their min timestamp on first request (one scan), then keep it. */
function minTimestampOf(segment: Segment): number {
  if (segment.minTimestamp === undefined) {
    let min = Infinity;
    scanRecords(segment, segment.index.positionFor(0), segment.baseOffset, segment.size, (record) => {
      min = Math.min(min, record.timestamp);
    }, 1 << 20);
    segment.minTimestamp = min;
  }
  return segment.minTimestamp;
}
