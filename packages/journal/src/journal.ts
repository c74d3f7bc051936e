import {
  KeelError,
  OverlayIo,
  waitForFileChange,
  Store,
  assertPayloads,
  assertBytes,
  assertMaxBytes,
  assertPosition,
  badArgument,
  createDirectoryDurably,
  frameBytes,
  guardIo,
  parentDir,
  type Advice,
  type BackupPlan,
  type Io,
  type GuardedIo,
  type IoFile,
} from '@keel/core';
import { LSN_MAX, RECORD_BYTES_MAX } from './format.js';
import { assertPath, normalizeJournalOptions, type JournalOptions, type NormalizedJournalOptions } from './options.js';
import { assertScanReachedEnd, checkRecords, scanRecords, type JournalRecord, type ScanEnd } from './records.js';
import { RecordBoundaries } from './record-boundaries.js';
import { openJournalFiles, type OpenedJournal } from './recovery.js';
import { writeCleanShutdown } from './clean-shutdown.js';
import { RecordStream } from './stream.js';
import { scanJournalBatches, type JournalBatch } from './batch-scan.js';
import { visibleSource } from './visible-source.js';
import { JournalWriter } from './writer.js';

/** The journal's own `stats()` fields; the shared ones (durability, flushes, poisoned, closed, …) come from core's `StoreStats`. */
export interface JournalStats {
  path: string;
  nextLsn: number;
  syncedLsn: number;
  /** Records appended since open. */
  records: number;
  /** Bytes appended but not yet handed to the OS. */
  bufferedBytes: number;
  /** Writes handed to the OS since open. */
  writes: number;
  isDirect: boolean;
}

/** How often a read-only journal following another process's writer looks for more, notifications or not. */
export const FOLLOW_POLL_MS = 100;

const ADVICE: ReadonlySet<string> = new Set(['normal', 'sequential', 'random', 'willneed', 'dontneed']);

/**
 * An append-only write-ahead journal in one file. `append` returns the record's LSN at
 * once (the frame is in memory); `syncThrough(lsn)` resolves when every byte below the
 * LSN is on stable storage, sharing one fdatasync among every waiter. The lifecycle,
 * group commit, poisoning and close are core's `Store`; this class is the format.
 */
export class Journal extends Store<JournalStats> {
  readonly path: string;
  readonly #file: IoFile;
  readonly #writeFile: IoFile;
  readonly #writer: JournalWriter;
  readonly #boundaries = new RecordBoundaries();
  /** Streams waiting for more (following), woken by appends and by close. */
  readonly #waiters = new Set<() => void>();
  /** A read-only journal's way to the live file a writer in another process appends to. */
  readonly #liveIo: Io | null;
  /** The caller's Io, unguarded: the clean-shutdown record is written through it, so that its failure poisons nothing. */
  readonly #baseIo: Io;
  /** Where the last frame starts (null while the journal is empty): named by the clean-shutdown record. */
  #lastFrameAt: number | null;
  /** Whether the next async flush first moves the file's syncs to a thread of their own. */
  #syncThreadWanted: boolean;

  static async open(path: string, options?: JournalOptions): Promise<Journal> {
    assertPath(path);
    const normalized = normalizeJournalOptions(options);
    if (normalized.readOnly) return Journal.#openReadOnly(path, normalized);
    // Like every keel store, a journal creates what is missing of its directory, durably.
    await createDirectoryDurably(normalized.io, parentDir(path));
    // The journal file locks itself: it is the only file, so there is no directory lock.
    const io = guardIo(normalized.io);
    const opened = await openJournalFiles(path, { ...normalized, io });
    return new Journal(path, io, opened, normalized, null);
  }

  /** Recovery runs against an overlay of the file: nothing on disk changes and no lock is taken. */
  static async #openReadOnly(path: string, options: NormalizedJournalOptions): Promise<Journal> {
    if (options.io.stat(path)?.isFile !== true) throw new KeelError('KEEL_NOT_FOUND', `${path} is not a journal file; a read-only open creates nothing`, { path });
    const overlay = new OverlayIo(options.io);
    const io = guardIo(overlay);
    try {
      const opened = await openJournalFiles(path, { ...options, io, direct: false, preallocate: 0, durability: { mode: 'none' } });
      return new Journal(path, io, opened, options, overlay);
    } catch (error) {
      overlay.close();
      throw error;
    }
  }

  private constructor(path: string, io: GuardedIo, opened: OpenedJournal, options: NormalizedJournalOptions, overlay: OverlayIo | null) {
    super({ name: `journal ${path}`, io, durability: options.durability, durableThrough: opened.durableThrough, recovery: opened.recovery, lock: null, overlay, baseIo: options.io });
    this.path = path;
    this.#file = opened.file;
    this.#writeFile = opened.writeFile;
    this.#writer = new JournalWriter(opened.writeFile, opened.buffer, options.writeBufferBytes);
    this.#boundaries.noteEnd(this.#writer.nextLsn);
    this.#liveIo = overlay === null ? null : options.io;
    this.#baseIo = options.io;
    this.#lastFrameAt = opened.lastFrameAt;
    this.#syncThreadWanted = options.syncThread;
  }
  /** The LSN the next record will end after; every record appended so far ends at or below it. */
  get nextLsn(): number {
    return this.#writer.nextLsn;
  }

  /** Every byte below this LSN is durable. */
  get syncedLsn(): number {
    return this.durableThrough;
  }

  /** Whether writes bypass the page cache (false when O_DIRECT was not asked for or was refused). */
  get isDirect(): boolean {
    return this.#writeFile.isDirect;
  }

  /** Appends one record; returns its LSN. Durable only once a sync covers the LSN. */
  append(payload: Uint8Array): number {
    this.assertWritable();
    assertBytes(payload, 'payload');
    assertMaxBytes(payload, RECORD_BYTES_MAX, 'payload');
    this.#assertLsnRoom(frameBytes(payload.length));
    const lsn = this.#writer.append(payload);
    this.#lastFrameAt = lsn - frameBytes(payload.length);
    this.#boundaries.noteEnd(lsn);
    this.wrote(1);
    this.#wakeFollowers();
    return lsn;
  }

  /** Appends many records in one call (one write, one CRC crossing per run of frames); returns the last LSN. */
  appendBatch(payloads: readonly Uint8Array[]): number {
    this.assertWritable();
    assertPayloads(payloads, RECORD_BYTES_MAX);
    let total = 0;
    for (const payload of payloads) total += frameBytes(payload.length);
    this.#assertLsnRoom(total);
    if (payloads.length === 0) return this.#writer.nextLsn;
    const lsn = this.#writer.appendBatch(payloads, total);
    this.#lastFrameAt = lsn - frameBytes((payloads[payloads.length - 1] as Uint8Array).length);
    this.#boundaries.noteEnd(lsn);
    this.wrote(payloads.length);
    this.#wakeFollowers();
    return lsn;
  }

  /** Resolves with the durable frontier once every byte below `lsn` is durable. */
  syncThrough(lsn: number): Promise<number> {
    try {
      this.#assertSyncable(lsn);
    } catch (error) {
      return Promise.reject(error);
    }
    // The group commit starts its flush a microtask later, so every append and syncThrough
    // made in this turn shares the first fdatasync.
    return this.syncThroughPosition(lsn);
  }

  /**
   * `syncThrough` on the calling thread: hands the buffered frames to the OS and runs one
   * fdatasync before returning the durable frontier (Node's xSync convention, for callers
   * that block anyway). It blocks the event loop for that fdatasync; a failure poisons
   * the journal exactly as a failed async sync does.
   */
  syncThroughSync(lsn: number): number {
    this.#assertSyncable(lsn);
    return this.syncThroughPositionSync(lsn);
  }

  /** The records from `from` (an LSN, default 0) to the current end, buffered ones included. */
  records(options: { from?: number } = {}): IterableIterator<JournalRecord> {
    const from = this.#readStart(options);
    const to = this.#readableEnd();
    const path = this.path;
    return scanRecords(visibleSource(this.#file, this.#writer, to), from, to, (end: ScanEnd) => {
      assertScanReachedEnd(end, from, to, path);
    });
  }

  /**
   * Every record from `from` (an LSN, default 0) to the end at the time of the call, as
   * batches of a chunk (about 1 MiB) each: the fastest way to read a journal through.
   * Reads are asynchronous (off the event loop) and double-buffered (the next chunk's read
   * is in flight while this one is checked and handed out); each chunk's frames are
   * checked by one native call (magic, bounded length, CRC-32C) and nothing is allocated
   * per record. **The batch is reused:** it and every payload view cut from it are valid
   * only until the iterator's next step; copy what you keep (`payload(i).slice()`).
   * Damage is KEEL_CORRUPT with the byte offset; `close()` ends the scan quietly; an
   * aborted `signal` ends it with KEEL_ABORTED.
   */
  scan(options: { from?: number; signal?: AbortSignal } = {}): AsyncIterableIterator<JournalBatch> {
    const from = this.#readStart(options);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw badArgument('signal must be an AbortSignal');
    const target = { path: this.path, file: this.#file, writer: this.#writer, isClosed: () => this.isClosed };
    return scanJournalBatches(target, from, this.#readableEnd(), signal);
  }

  /**
   * The records from `from` with asynchronous reads; sees appends made while it runs. It
   * ends when caught up, or with `follow: true` waits for more until the journal is closed
   * (then it ends quietly) or `signal` aborts (KEEL_ABORTED). A read-only journal follows
   * the writer in another process: woken by file notifications, polling every
   * `FOLLOW_POLL_MS` anyway, and it hands out only whole, checksummed records; a frame
   * not yet whole at the end of the file is waited for, not reported.
   */
  stream(options: { from?: number; signal?: AbortSignal; follow?: boolean } = {}): AsyncIterableIterator<JournalRecord> {
    const from = this.#readStart(options);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw badArgument('signal must be an AbortSignal');
    if (options.follow !== undefined && typeof options.follow !== 'boolean') throw badArgument('follow must be a boolean');
    if (options.follow === true && this.#liveIo !== null) return this.#followLive(from, signal, this.#liveIo);
    const writer = this.#writer;
    return new RecordStream(
      {
        file: this.#file,
        signal,
        refreshEnd: () => this.#readableEnd(),
        handedThrough: () => writer.handedThrough,
        readPending: (into, position) => writer.readPending(into, position),
        waitForMore: options.follow === true ? () => this.#nextAppend(signal) : undefined,
      },
      from,
    );
  }

  /** A writer in another process: the file itself, read past this view's end as it grows. */
  #followLive(from: number, signal: AbortSignal | undefined, io: Io): AsyncIterableIterator<JournalRecord> {
    const file = io.open(this.path);
    return new RecordStream(
      {
        file,
        signal,
        refreshEnd: () => (this.isClosed ? 0 : file.sizeSync()),
        handedThrough: () => Number.MAX_SAFE_INTEGER,
        readPending: () => 0,
        liveTail: true,
        waitForMore: () => this.#fileChange(io, signal),
        onEnd: () => file.closeSync(),
      },
      from,
    );
  }

  /** Resolves on the next append (true), on close (false), or when `signal` aborts (true: the stream then throws). */
  #nextAppend(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    if (signal?.aborted === true) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        this.#waiters.delete(wake);
        resolve(!this.isClosed || signal?.aborted === true);
      };
      this.#waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Resolves when the file may have grown (a notification or the poll), false once closed. */
  async #fileChange(io: Io, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.isClosed) return false;
    await waitForFileChange(io, this.path, { pollMs: FOLLOW_POLL_MS, signal, waiters: this.#waiters });
    return !this.isClosed || signal?.aborted === true;
  }

  /** Reserves `bytes` past the current end without changing the file size; false where the file system cannot. */
  preallocate(bytes: number): boolean {
    this.assertWritable();
    assertPosition(bytes, 'bytes');
    if (bytes === 0) return true;
    return this.#file.preallocateSync(this.#writer.nextLsn, bytes);
  }

  /** Passes an access-pattern hint for a byte range to the OS. */
  advise(offset: number, length: number, advice: Advice): void {
    this.assertOpen();
    assertPosition(offset, 'offset');
    assertPosition(length, 'length');
    if (typeof advice !== 'string' || !ADVICE.has(advice)) throw badArgument(`advice must be one of ${[...ADVICE].join(', ')}`);
    this.#file.adviseSync(offset, length, advice);
  }

  protected storeStats(): JournalStats {
    return {
      path: this.path,
      nextLsn: this.#writer.nextLsn,
      syncedLsn: this.durableThrough,
      records: this.#writer.records,
      bufferedBytes: this.#writer.pendingBytes,
      writes: this.#writer.writes,
      isDirect: this.isDirect,
    };
  }

  protected writtenThrough(): number {
    return this.#writer.nextLsn;
  }

  // The buffered frames are written synchronously before the fdatasync starts, so a flush
  // never covers bytes that are not yet in the OS's hands.
  protected async flushToDisk(): Promise<void> {
    this.#writer.handToOs();
    if (this.#syncThreadWanted) {
      // Started by the first async sync, so a journal that never makes one costs no thread.
      this.#syncThreadWanted = false;
      this.#writeFile.useSyncThread?.();
    }
    await this.#writeFile.datasync();
  }

  protected flushToDiskSync(): void {
    this.#writer.handToOsAndSync();
  }

  protected handToOs(): void {
    this.#writer.handToOs();
  }

  protected override async afterFinalSync(synced: boolean): Promise<void> {
    const end = this.#writer.nextLsn;
    if (this.#writeFile !== this.#file && this.#file.sizeSync() !== end) {
      // Direct writes pad the last block with zeros; the file's logical end is the next LSN.
      this.#file.setLengthSync(end);
      if (synced) await this.#file.datasync();
    }
    // Every byte is durable now (never under 'none': close did not sync): the record lets
    // the next open skip the full check. Its failure fails nothing; that open checks all.
    if (synced) await writeCleanShutdown(this.#baseIo, this.path, this.#file, { end, records: this.recovery.records + this.#writer.records, lastFrameAt: this.#lastFrameAt });
  }

  /** One file: every record durable now (a read-only journal: every record it sees). */
  protected override backupPlan(): BackupPlan {
    return { directory: false, files: [{ path: this.path, name: '', length: this.readOnly ? this.#writer.nextLsn : this.durableThrough }] };
  }

  protected override openCopy(target: string, io: Io): Promise<Journal> {
    return Journal.open(target, { io, readOnly: true });
  }

  /** Every frame checked, none copied out: a backup's read-back runs at the scanner's pace. */
  protected override async readEverything(): Promise<void> {
    const to = this.#readableEnd();
    assertScanReachedEnd(checkRecords(visibleSource(this.#file, this.#writer, to), 0, to), 0, to, this.path);
  }

  /** Following streams end quietly when the journal closes. */
  protected override async beforeClose(): Promise<void> {
    this.#wakeFollowers();
  }

  #wakeFollowers(): void {
    if (this.#waiters.size === 0) return;
    for (const wake of [...this.#waiters]) wake();
  }

  protected closeFiles(): void {
    if (this.#writeFile !== this.#file) this.#writeFile.closeSync();
    this.#file.closeSync();
  }

  #assertSyncable(lsn: number): void {
    this.assertWritable();
    assertPosition(lsn, 'lsn');
    if (lsn > this.#writer.nextLsn) throw badArgument(`lsn ${lsn} is beyond the end of the journal (${this.#writer.nextLsn})`);
  }

  #readStart(options: { from?: number }): number {
    this.assertOpen();
    if (options === null || typeof options !== 'object') throw badArgument('options must be an object');
    const from = options.from ?? 0;
    assertPosition(from, 'from');
    if (from > this.#writer.nextLsn) throw badArgument(`from ${from} is beyond the end of the journal (${this.#writer.nextLsn})`);
    const end = this.#writer.nextLsn;
    if (!this.#boundaries.isBoundary(visibleSource(this.#file, this.#writer, end), from, end)) {
      throw new KeelError('KEEL_BAD_ARGUMENT', `from ${from} is not the LSN of a record in ${this.path}`, { path: this.path, offset: from });
    }
    return from;
  }

  /** Readers see every appended frame; a poisoned journal only what it handed to the OS. */
  #readableEnd(): number {
    this.assertOpen();
    return this.poisonedBy === null ? this.#writer.nextLsn : this.#writer.handedThrough;
  }

  #assertLsnRoom(bytes: number): void {
    if (this.#writer.nextLsn + bytes > LSN_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `appending ${bytes} bytes would take the LSN past ${LSN_MAX} (2^53 − 1)`, { path: this.path });
    }
  }
}
