import {
  KeelError,
  Store,
  assertArray,
  assertPosition,
  badArgument,
  describeType,
  openStoreDirectory,
  throwIfAborted,
  waitForFileChange,
  joinPath,
  storeFileNames,
  type BackupPlan,
  type Io,
  type StoreDirectory,
} from '@keel/core';
import type { SealedFileCache } from './file-cache.js';
import { CLEAN_SHUTDOWN_TEMPORARY_NAME, LOG_START_TEMPORARY_NAME, PREPARED_SEGMENT_NAME, parseSegmentFileName, segmentName } from './format.js';
import { PreparedSegment } from './prepared-segment.js';
import { SealedIndexWrites } from './sealed-index-writes.js';
import { writeCleanShutdown } from './clean-shutdown.js';
import { normalizeOptions, type NormalizedOptions, type SegmentLogOptions } from './options.js';
import { READ_BYTES_DEFAULT, READ_CHUNK_BYTES_MAX, collectFrom, offsetForTimestamp, readRecords, type ReadLimits } from './reader.js';
import { RecordBatch } from './record-batch.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { scanBatches } from './batch-scan.js';
import { BatchColumns, prepareBatch, type AppendRecord, type LogRecord } from './record.js';
import { recoverLog, type RecoveredLog } from './recovery.js';
import { deleteOldestWhile, retentionPredicate, type RetentionLimits } from './retention.js';
import type { Segment } from './segment.js';
import { scanRecords } from './segment-scan.js';
import { verifySegment, type VerifyReport } from './verify.js';
import { activeSegment, afterWaiters, appendPrepared, flushLog, flushLogSync, roll, unsettledSegments, writeIndexTail, type WriterContext } from './writer.js';
import { settleDue, settleRolls, takeOwnNames } from './roll-settle.js';
import { WriteBuffer } from './write-buffer.js';
import { TieredStorage, type TieredStats } from './tiered/tiered-storage.js';

export interface ReadOptions {
  /** Stop before a record that would take the records returned past this many bytes, as they lie in their batch frames (the first record is always returned). Default 1 MiB. */
  maxBytes?: number;
  /** Default: no limit beyond maxBytes. */
  maxRecords?: number;
}

export interface ScanOptions {
  /** First offset to read; defaults to `startOffset`. */
  from?: number;
  /** Stops the scan with KEEL_ABORTED (the signal's reason as its cause) when aborted. */
  signal?: AbortSignal;
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

/** segment-log's own `stats()` fields; the shared ones (durability, flushes, poisoned, closed, …) come from core's `StoreStats`. */
export interface SegmentLogStats {
  segments: number;
  bytes: number;
  records: number;
  startOffset: number;
  nextOffset: number;
  durableOffset: number;
  /** The first offset on local disk (below it, records are read from the remote store). */
  localStartOffset: number;
  /** Offload and remote reads of a tiered log; null for a local one. */
  tiered: TieredStats | null;
}

/** Records read per step of a stream. */
const STREAM_BATCH_BYTES = 1024 * 1024;

/**
 * A Kafka-style partition log: numbered segments with sparse offset and time indexes,
 * rolling by size and age, retention by size and age, and recovery on open.
 */
export class SegmentLog extends Store<SegmentLogStats> {
  readonly #dir: string;
  readonly #options: NormalizedOptions;
  readonly #segments: Segment[];
  readonly #context: WriterContext;
  readonly #waiters = new Set<() => void>();
  /** A read-only log's way to the live directory a writer in another process appends to. */
  readonly #liveIo: Io | null;
  /** Offload and remote reads (`options.tiered`), set once open has opened its journal. */
  #tiered: TieredStorage | null = null;
  /** Background work after a flush is queued or running (see `#settleRollsWhenDue`). */
  #settling = false;
  /** A flush or a sealed index write ended while it was: it may have left more, so it runs once more. */
  #settleAgain = false;
  /** The typed columns appends prepare their batches into, lent to one append at a time (null while lent). */
  #columns: BatchColumns | null = new BatchColumns();
  /** Buffers that released `readBatch()` batches gave back, for the next reads. */
  readonly #readBuffers = new ReadBufferPool(READ_CHUNK_BYTES_MAX);

  private constructor(opened: StoreDirectory & { recovered: RecoveredLog }, options: NormalizedOptions) {
    const { segments, report, files, sealedCheckpoint } = opened.recovered;
    // Segments roll inside append, so the first flush may already find new files.
    super({ name: `segment log ${opened.dir}`, io: opened.io, durability: options.durability, durableThrough: segments[segments.length - 1]!.nextOffset, recovery: report, lock: opened.lock, overlay: opened.overlay, baseIo: opened.baseIo });
    this.#dir = opened.dir;
    this.#liveIo = opened.overlay === null ? null : opened.baseIo;
    this.#options = { ...options, io: opened.io };
    this.#segments = segments;
    const prepared = new PreparedSegment(opened.dir, segments[0]!.storeId);
    const sealedWrites = new SealedIndexWrites({ onFailure: (error) => this.poison(error), onWritten: () => this.#afterIndexWritten() });
    this.#context = { io: opened.io, dir: opened.dir, options: this.#options, segments, unsettled: unsettledSegments(segments), files, onRoll: () => this.#afterRoll(), buffer: new WriteBuffer(), prepared, sealedWrites, sealedCheckpoint };
  }

  /**
   * Opens (creating when missing) the log in `dir`, takes its lock and recovers it:
   * nothing on disk changes when the arguments are bad or the files are not ours.
   */
  static async open(dir: string, options: SegmentLogOptions = {}): Promise<SegmentLog> {
    const normalized = normalizeOptions(dir, options);
    const opened = await openStoreDirectory(normalized.io, dir, (store) => recoverLog(dir, { ...normalized, io: store.io }), { readOnly: normalized.readOnly });
    const log = new SegmentLog(opened, normalized);
    if (normalized.tiered !== null) await log.#openTiered(normalized.tiered, opened.io);
    return log;
  }

  /** Hook: the offload journal and uploader start once recovery is done; sealed segments without a copy are queued. */
  async #openTiered(options: NonNullable<NormalizedOptions['tiered']>, io: Io): Promise<void> {
    try {
      this.#tiered = await TieredStorage.open(this.#dir, io, options, this.readOnly, () => this.#afterCopy());
    } catch (error) {
      await this.close().catch(() => undefined);
      throw error;
    }
    this.#tiered?.offerSealed(this.#segments);
    if (!this.readOnly) this.#retentionAfterRoll();
  }

  /** The first offset of the log: on a tiered log, the first offset of its oldest remote segment. */
  get startOffset(): number {
    return this.#tiered?.startOffset(this.localStartOffset) ?? this.localStartOffset;
  }

  /** The first offset on local disk; below it (tiered logs only) records come from the remote store. */
  get localStartOffset(): number {
    return (this.#segments[0] as Segment).baseOffset;
  }

  get nextOffset(): number {
    return activeSegment(this.#context).nextOffset;
  }

  /** Every offset below this one is durable. */
  get durableOffset(): number {
    return this.durableThrough;
  }

  /** Appends one record; returns its offset. */
  append(record: AppendRecord): number {
    this.assertWritable();
    return this.#write([record], () => 'record');
  }

  /** Appends records in order (one write per segment they land in); returns the first one's offset. */
  appendBatch(records: readonly AppendRecord[]): number {
    this.assertWritable();
    assertArray(records, 'records');
    if (records.length === 0) {
      this.#options.now();
      return this.nextOffset;
    }
    return this.#write(records, (index) => `records[${index}]`);
  }

  /**
   * Prepares `records` into the log's kept columns and writes them. The columns are taken
   * for the call: an append made from inside it (a record's getter may append) finds none
   * and prepares into columns of its own. They are handed back without the caller's buffers.
   */
  #write(records: readonly unknown[], where: (index: number) => string): number {
    const now = this.#options.now();
    const columns = this.#columns;
    this.#columns = null;
    try {
      return this.#writePrepared(prepareBatch(records, now, where, columns));
    } finally {
      columns?.release();
      this.#columns = columns;
    }
  }

  #writePrepared(prepared: Parameters<typeof appendPrepared>[1]): number {
    const first = appendPrepared(this.#context, prepared);
    this.wrote();
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return first;
  }

  /**
   * Seals the active segment now (as Kafka's `roll`) and starts a new one; returns the
   * new segment's base offset. A no-op on an empty active segment.
   */
  roll(): number {
    this.assertWritable();
    if (activeSegment(this.#context).records > 0) roll(this.#context);
    return this.nextOffset;
  }

  protected writtenThrough(): number {
    return this.nextOffset;
  }

  /** Records are written to the OS as they are appended: nothing is buffered. */
  protected handToOs(): void {}

  /**
   * The group commit's flush: every segment with unsynced bytes, and the directory when a
   * roll created a file; sealed segments' indexes follow in the background (see
   * writer.ts), and so does what a roll leaves for later (a rename, the next prepared
   * file: see roll-settle.ts), off the path of every sync. Hook: segments whole on disk go
   * to the uploader (here, as each index write finishes, and after each rename).
   */
  protected async flushToDisk(): Promise<void> {
    await flushLog(this.#context);
    this.#tiered?.offerSealed(this.#segments);
    this.#settleRollsWhenDue();
  }

  protected flushToDiskSync(): void {
    flushLogSync(this.#context);
    this.#tiered?.offerSealed(this.#segments);
    this.#settleRollsWhenDue();
  }

  /**
   * Queues `settleRolls` as maintenance when it has anything to do, one task at a time,
   * and not while sealed index frames are being written (their end asks again): their
   * datasyncs and its directory syncs would otherwise land on the same batch's fdatasync.
   * Nothing waits on the task but close (through the maintenance queue) and the
   * maintenance queued after it; a failure poisons the log, which the next call reports.
   * It is queued again only when a flush or a sealed write ended while it was queued or
   * running (they are what make a step due): never in a loop of its own.
   */
  #settleRollsWhenDue(): void {
    if (this.readOnly || this.isClosed || this.poisonedBy !== null) return;
    if (this.#settling) {
      this.#settleAgain = true;
      return;
    }
    if (!settleDue(this.#context) || this.#context.sealedWrites.busy) return;
    this.#settling = true;
    this.#settleAgain = false;
    this.maintain(async () => {
      // After the waiters of the flush that made it due, and after the flush their next
      // batch starts: the index files it creates would otherwise hold the event loop
      // (about 200 µs) between that batch's sync call and its fdatasync.
      await afterWaiters();
      await settleRolls(this.#context);
      this.#tiered?.offerSealed(this.#segments);
    })
      .catch(() => undefined)
      .finally(() => {
        this.#settling = false;
        if (this.#settleAgain) this.#settleRollsWhenDue();
      });
  }

  read(offset: number, options: ReadOptions = {}): LogRecord[] {
    const limits = this.#readArguments(offset, options);
    if (offset === this.nextOffset) return [];
    this.#assertLocal(offset);
    return readRecords(this.#segments, offset, limits);
  }

  /**
   * `read` without an object per record: the same records, limits and checks (every
   * record's CRC-32C, offset and lengths), handed back as one `RecordBatch` whose
   * `offset(i)`, `timestamp(i)`, `key(i)`, `value(i)` and `headers(i)` read them where
   * the read put them. The batch owns its buffers: it and every view cut from it stay
   * valid for as long as they are held, whatever the log does next, unless the batch is
   * released (`release()` or `using`): that hands its buffers back to the log for later
   * reads, so the batch refuses use (KEEL_CLOSED) and views taken from it may change.
   */
  readBatch(offset: number, options: ReadOptions = {}): RecordBatch {
    const limits = this.#readArguments(offset, options);
    const batch = new RecordBatch(this.#readBuffers);
    if (offset === this.nextOffset) return batch;
    this.#assertLocal(offset);
    collectFrom(this.#segments, offset, limits, batch, this.#readBuffers);
    return batch;
  }

  /**
   * Every record from `from` (default `startOffset`) to the end of the log at the time of
   * the call, as batches of a chunk (about 1 MiB) each: the fastest way to read a log
   * through. Reads are asynchronous (off the event loop) and double-buffered (the next
   * chunk's read is in flight while this one is checked and handed out), every frame is
   * checked (CRC-32C, offset, lengths) before its batch is handed out, and nothing is
   * allocated per record. **The batch is reused:** it and every view cut from it are
   * valid only until the iterator's next step; copy what you keep (`value(i).slice()`).
   * A segment deleted by retention before the scan reaches it is KEEL_NOT_FOUND; damage
   * is KEEL_CORRUPT with the file and byte; `close()` ends the scan quietly; an aborted
   * `signal` ends it with KEEL_ABORTED.
   */
  scan(options: ScanOptions = {}): AsyncIterableIterator<RecordBatch> {
    const from = this.#startArguments(options, 'scan');
    if (from < this.nextOffset) this.#assertLocal(from);
    const segments = this.#segments;
    return scanBatches({ segments, isClosed: () => this.isClosed }, from, this.nextOffset, options.signal);
  }

  /** Checks the options of a read through the log (the log open, `from` in range, `signal`) and returns `from`. */
  #startArguments(options: ScanOptions, what: string): number {
    this.assertOpen();
    if (options === null || typeof options !== 'object') throw badArgument(`${what} options must be an object, got ${describeType(options)}`);
    const from = options.from ?? this.startOffset;
    assertPosition(from, 'from');
    this.#assertInRange(from);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw badArgument(`signal must be an AbortSignal, got ${describeType(options.signal)}`);
    return from;
  }

  #assertLocal(offset: number): void {
    if (offset < this.localStartOffset) {
      throw new KeelError('KEEL_UNSUPPORTED', `offset ${offset} is in the remote store (below the local start ${this.localStartOffset}): read it with readAsync() or stream()`);
    }
  }

  /** Checks a read's arguments (the log open, the offset in range) and returns its limits. */
  #readArguments(offset: number, options: ReadOptions): ReadLimits {
    this.assertOpen();
    assertPosition(offset, 'offset');
    if (options === null || typeof options !== 'object') throw badArgument(`read options must be an object, got ${describeType(options)}`);
    const maxBytes = positiveInteger(options.maxBytes, 'maxBytes', READ_BYTES_DEFAULT);
    const maxRecords = positiveInteger(options.maxRecords, 'maxRecords', Number.MAX_SAFE_INTEGER);
    this.#assertInRange(offset);
    return { maxBytes, maxRecords };
  }

  /**
   * `read` for any offset of the log, local or remote. Below the local start the records
   * come from the remote segment holding `offset` (at most to its end), every frame
   * checked; a store that cannot be reached is KEEL_REMOTE_UNAVAILABLE.
   */
  async readAsync(offset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    const limits = this.#readArguments(offset, options);
    if (this.#tiered === null || offset >= this.localStartOffset) return this.read(offset, limits);
    return this.#tiered.read(this.localStartOffset, offset, limits);
  }

  #assertInRange(offset: number): void {
    if (offset < this.startOffset || offset > this.nextOffset) {
      throw new KeelError('KEEL_NOT_FOUND', `offset ${offset} is outside the log [${this.startOffset}, ${this.nextOffset}]`);
    }
  }

  /** Yields records from `from`; with `follow`, waits for new ones until aborted or closed. */
  stream(options: StreamOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    const from = this.#startArguments(options, 'stream');
    return this.#stream(from, options.follow === true, options.signal);
  }

  async *#stream(from: number, follow: boolean, signal: AbortSignal | undefined): AsyncGenerator<LogRecord, void, undefined> {
    let next = from;
    for (;;) {
      throwIfAborted(signal);
      if (this.isClosed) return;
      if (next < this.nextOffset) {
        const records = next < this.localStartOffset ? await this.readAsync(next, { maxBytes: STREAM_BATCH_BYTES }) : this.read(next, { maxBytes: STREAM_BATCH_BYTES });
        for (const record of records) {
          yield record;
          next = record.offset + 1;
          throwIfAborted(signal);
        }
        continue;
      }
      if (!follow) return;
      if (this.#liveIo !== null) {
        yield* this.#followLive(next, signal, this.#liveIo);
        return;
      }
      await this.#nextAppend(signal);
    }
  }

  /**
   * A read-only log following a writer in another process: whenever the directory may have
   * changed (a notification, or the poll), and its newest segment did, a fresh read-only
   * view is opened and read on from the next offset. Each view is a recovered, checked
   * one, so only whole, checksummed records are handed out.
   */
  async *#followLive(from: number, signal: AbortSignal | undefined, io: Io): AsyncGenerator<LogRecord, void, undefined> {
    let next = from;
    // This view was taken at open: the files may hold more already, so look at once.
    let seen = '';
    for (;; await this.#directoryChange(io, signal)) {
      throwIfAborted(signal);
      if (this.isClosed) return;
      const now = liveSignature(io, this.#dir);
      if (now === seen) continue;
      seen = now;
      const view = await SegmentLog.open(this.#dir, { io, readOnly: true });
      try {
        if (next < view.startOffset) throw new KeelError('KEEL_NOT_FOUND', `offset ${next} was deleted by retention before this follower read it (the log now starts at ${view.startOffset})`);
        for await (const record of view.stream({ from: Math.min(next, view.nextOffset), signal })) {
          yield record;
          next = record.offset + 1;
          if (this.isClosed) return;
        }
      } finally {
        await view.close();
      }
    }
  }

  /** Resolves when the directory may have changed, after at most FOLLOW_POLL_MS, or on close or abort. */
  #directoryChange(io: Io, signal: AbortSignal | undefined): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return waitForFileChange(io, this.#dir, { pollMs: FOLLOW_POLL_MS, signal, waiters: this.#waiters });
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
    this.assertOpen();
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) throw badArgument(`timestamp must be a safe integer, got ${describeType(timestamp)}`);
    if (this.#tiered?.holdsTimestamp(this.localStartOffset, timestamp) === true) {
      throw new KeelError('KEEL_UNSUPPORTED', `the first record at or after timestamp ${timestamp} is in the remote store: look it up with offsetForTimestampAsync()`);
    }
    return offsetForTimestamp(this.#segments, timestamp);
  }

  /** `offsetForTimestamp` over the whole log, remote segments included. */
  async offsetForTimestampAsync(timestamp: number): Promise<number | undefined> {
    this.assertOpen();
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) throw badArgument(`timestamp must be a safe integer, got ${describeType(timestamp)}`);
    if (this.#tiered?.holdsTimestamp(this.localStartOffset, timestamp) !== true) return offsetForTimestamp(this.#segments, timestamp);
    return this.#tiered.offsetForTimestamp(this.localStartOffset, timestamp);
  }

  /**
   * Resolves once the uploader has nothing queued: every segment sealed and made durable
   * so far has a finished remote copy (or the log was closed). Immediately on a local log.
   */
  async offloaded(): Promise<void> {
    if (this.#tiered === null) return;
    // A segment is offered once its sealed index is durable: the writes running now first.
    // (One that failed poisoned the log, which every later call reports.)
    await this.#context.sealedWrites.settle().catch(() => undefined);
    // And once it has its own name: a rename a roll left for later, now.
    if (!this.isClosed && this.poisonedBy === null && this.#segments.some((segment) => segment.preparedPath !== null)) {
      await this.maintain(() => takeOwnNames(this.#context)).catch(() => undefined);
      this.#tiered.offerSealed(this.#segments);
    }
    await this.#tiered.idle();
  }

  /** A sealed segment's index became durable after its flush: it may go to the uploader now, and what the roll left may follow. */
  #afterIndexWritten(): void {
    if (this.isClosed) return;
    this.#tiered?.offerSealed(this.#segments);
    this.#settleRollsWhenDue();
  }

  /** Deletes whole sealed segments whose every offset is below `offset`; returns how many. */
  deleteBefore(offset: number): Promise<number> {
    this.assertWritable();
    assertPosition(offset, 'offset');
    return this.maintain(() => {
      if (this.#tiered !== null) return this.#tiered.deleteBefore(this.localStartOffset, offset, this.#deleteLocal);
      return this.#deleteLocal((segment) => segment.nextOffset <= offset);
    });
  }

  /** Hook for tiered retention: the local deletion, as retention.ts does it. */
  readonly #deleteLocal = (shouldDelete: (segment: Segment) => boolean): Promise<number> => deleteOldestWhile(this.#options.io, this.#dir, this.#segments, this.#context.sealedWrites, shouldDelete, () => takeOwnNames(this.#context));

  /** Applies `retention` (bytes, then age), oldest sealed segment first; returns how many were deleted. */
  enforceRetention(): Promise<number> {
    this.assertWritable();
    return this.maintain(() => {
      const limits = this.#retentionLimits();
      if (this.#tiered !== null) return this.#tiered.enforceRetention(this.#segments, limits, this.#deleteLocal);
      return this.#deleteLocal(retentionPredicate(this.#segments, limits));
    });
  }

  /** A roll is made durable by the next flush, in every durability mode: ask for it now. */
  #afterRoll(): void {
    this.requestFlush();
    this.#retentionAfterRoll();
  }

  #retentionAfterRoll(): void {
    const tiered = this.#options.tiered;
    const localRetention = tiered !== null && (tiered.localRetentionBytes < Number.MAX_SAFE_INTEGER || tiered.localRetentionMs < Number.MAX_SAFE_INTEGER);
    if (this.#options.retentionBytes === Number.MAX_SAFE_INTEGER && this.#options.retentionMs === Number.MAX_SAFE_INTEGER && !localRetention) return;
    if (this.#tiered !== null && !this.#tiered.retentionDue(this.#segments, this.#retentionLimits())) return;
    // Failures poison the log (seen by the next call); nothing else waits on this promise.
    this.enforceRetention().catch(() => undefined);
  }

  #retentionLimits(): RetentionLimits {
    return { bytes: this.#options.retentionBytes, ms: this.#options.retentionMs, now: this.#options.now() };
  }

  /** A copy finished: local retention may now delete the segment's files (a closed or poisoned log does nothing). */
  #afterCopy(): void {
    if (this.isClosed || this.readOnly || this.poisonedBy !== null) return;
    try {
      this.#retentionAfterRoll();
    } catch {
      // The log began closing meanwhile: the next open applies retention.
    }
  }

  segments(): SegmentInfo[] {
    this.assertOpen();
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
    this.assertOpen();
    const report: VerifyReport = { segments: 0, records: 0, bytes: 0 };
    for (const segment of [...this.#segments]) {
      if (this.isClosed) throw new KeelError('KEEL_CLOSED', 'segment log closed during verify');
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

  protected storeStats(): SegmentLogStats {
    return {
      segments: this.#segments.length,
      bytes: this.#segments.reduce((sum, segment) => sum + segment.size, 0),
      records: this.nextOffset - this.startOffset,
      startOffset: this.startOffset,
      nextOffset: this.nextOffset,
      durableOffset: this.durableOffset,
      localStartOffset: this.localStartOffset,
      tiered: this.#tiered?.stats(this.localStartOffset) ?? null,
    };
  }

  /** Followers wake and see the log closed. */
  protected override async beforeClose(): Promise<void> {
    for (const wake of [...this.#waiters]) wake();
    // Hook: the uploader stops (a copy in flight stays started, for the next open to clean up) before the lock goes.
    await this.#tiered?.close();
  }

  /** Everything is durable now: the clean-shutdown record lets the next open trust the sealed segments without syncing each. */
  protected override async afterFinalSync(synced: boolean): Promise<void> {
    // The record vouches for the sealed segments' index files: every write of them done first.
    await this.#context.sealedWrites.settle();
    if (!synced) return;
    // The final flush may have left a rename for later: later is now (no next file is
    // prepared: close would remove it).
    await takeOwnNames(this.#context);
    writeIndexTail(this.#context);
    await writeCleanShutdown(this.io, this.#dir, this.nextOffset, activeSegment(this.#context).storeId);
  }

  /** The sealed index frames a flush left to write after it resolved: a backup's plan names their files, close closes them. */
  protected override async settleBackgroundWrites(): Promise<void> {
    await this.#context.sealedWrites.settle();
  }

  /** Every segment, index and checkpoint file; the active segment up to its durable end (read-only: all it sees). */
  protected override backupPlan(): BackupPlan {
    // The segment holding the durable frontier is the copy's last: segments a roll started
    // after it are not durable yet, and in the copy that one is the active segment.
    const durable = this.readOnly ? this.nextOffset : this.durableOffset;
    const last = this.#segments.findLast((segment) => segment.baseOffset < durable) ?? (this.#segments[0] as Segment);
    // An unused prepared file is no data; a segment still under that name (its rename comes
    // after the flush) is copied under its own.
    const names = storeFileNames(this.io, this.#dir, (name) => name === LOG_START_TEMPORARY_NAME || name === CLEAN_SHUTDOWN_TEMPORARY_NAME || name === PREPARED_SEGMENT_NAME);
    const sources = names.map((name) => ({ path: joinPath(this.#dir, name), name }));
    for (const segment of this.#segments) if (segment.preparedPath !== null) sources.push({ path: segment.preparedPath, name: `${segmentName(segment.baseOffset)}.log` });
    const lastPath = last.preparedPath ?? last.paths.log;
    const files: { path: string; name: string; length: number }[] = [];
    for (const { path, name } of sources) {
      const segment = parseSegmentFileName(name);
      if (segment !== null && segment.baseOffset > last.baseOffset) continue;
      const length = path === lastPath ? (this.readOnly ? last.size : last.durableBytes) : (this.io.stat(path)?.size ?? 0);
      files.push({ path, name, length });
    }
    return { directory: true, files };
  }

  protected override openCopy(target: string, io: Io): Promise<SegmentLog> {
    return SegmentLog.open(target, { io, readOnly: true });
  }

  protected override async readEverything(): Promise<void> {
    await this.verify();
  }

  protected closeFiles(): void {
    this.#readBuffers.close();
    this.#context.prepared.discard(this.io);
    this.#context.sealedCheckpoint.closeSync();
    for (const segment of this.#segments) segment.closeFiles();
  }
}

/** How often a read-only log following another process's writer looks for more, notifications or not. */
export const FOLLOW_POLL_MS = 100;

/** The segment files and the newest one's size: what changes when a writer appends, rolls or deletes. */
function liveSignature(io: Io, dir: string): string {
  const logs = io.list(dir).filter((name) => name.endsWith('.log'));
  const newest = logs.at(-1);
  return `${logs.join(',')}:${newest === undefined ? 0 : (io.stat(joinPath(dir, newest))?.size ?? 0)}`;
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
