import {
  KeelError,
  Store,
  badArgument,
  describeType,
  openStoreDirectory,
  type GuardedIo,
  joinPath,
  type BackupPlan,
  type Io,
  type StoreDirectory,
} from '@keel/core';
import { prepareBatch, prepareCondition, prepareDelete, prepareDeleteBatch, preparePut, preparePutBatch, preparePutColumns, emptyRecord, finish, type BatchOperation, type ConditionalBatchOperation, type PreparedRecord } from './batch.js';
import { decodeText, decodeValue, keyBytesOf, type Key } from './encoding.js';
import { logFileName, snapshotFileName } from './format.js';
import { IDENTITY_FILE_NAME } from './store-identity.js';
import { KeyIndex, READ_ABSENT } from './key-index.js';
import { ownedCopy } from './owned-copy.js';
import { CHECKPOINT_LOG_GROWTH_RATIO, COMPACT_LOG_BYTES_MIN } from './limits.js';
import { LogWriter } from './writer.js';
import { Maintenance } from './maintenance.js';
import { normalizeOptions, type NormalizedOptions, type WalKvOptions } from './options.js';
import { normalizeRange, type RangeOptions } from './range.js';
import { ReadView } from './read-view.js';
import { ReleasingIterator } from './releasing-iterator.js';
import type { ViewOverlay } from './view-overlay.js';
import { storeProjections, ViewCursor, type OpenGuard, type Projection } from './view-walk.js';
import { captureReplaced, logOf, newestViewSeq, openView, releaseRetiredLogs, releaseView, type RetiredLog } from './views.js';
import { recoverLog, type RecoveredLog } from './recovery.js';
import type { WalKvStats } from './stats.js';

/** What maintenance may ask of the store's protocol (core's Store keeps the rest to itself). */
export interface StoreControl {
  poisonedBy(): Error | null;
  /** Poisons the store for a failure that did not come through its Io. */
  poison(error: unknown): void;
  /** Resolves once every seq up to `seq` is durable (background work: allowed while closing). */
  flushedThrough(seq: number): Promise<number>;
}

/** The state the store and its maintenance share. */
export interface StoreState {
  readonly options: NormalizedOptions;
  /** The store's guarded Io: any failed write or sync through it poisons the store. */
  readonly io: GuardedIo;
  readonly dir: string;
  readonly index: KeyIndex;
  readonly control: StoreControl;
  /** The store's identity, written into every log header and snapshot. */
  readonly storeId: Uint8Array;
  writer: LogWriter;
  generation: number;
  /**
   * The oldest log generation the index may point into: the current one, or, while a
   * compaction moves values after its switch, the one before (a read view opened then
   * pins it).
   */
  indexedFrom: number;
  lastSeq: number;
  /** Log position and seq the newest snapshot covers, and its generation. */
  checkpointPosition: number;
  snapshotSeq: number | null;
  snapshotGeneration: number;
  /** Size of the newest snapshot this process wrote (0 before the first). */
  snapshotBytes: number;
  /** While compaction switches logs: a flush must wait for the new log to be in place. */
  switching: Promise<void> | null;
  /** Open read views (and iterators), and the older log generations kept for them. */
  readonly views: Set<ViewOverlay>;
  readonly retiredLogs: Map<number, RetiredLog>;
  checkpointsWritten: number;
  compactions: number;
}

/**
 * A key-value store over a checksummed log with an in-memory index, index snapshots and
 * log compaction. Writes are synchronous and return their seq; `sync()` says through
 * which seq everything is durable. See the README for the guarantees and the format.
 */
export class WalKv<V = unknown> extends Store<WalKvStats> {
  readonly #state: StoreState;
  readonly #maintenance: Maintenance;
  /** What this store's iterators check at every step (one per store, not a closure per iterator). */
  readonly #guard: OpenGuard = { assertOpen: () => this.assertOpen() };
  #flushScheduled = false;

  private constructor(opened: StoreDirectory & { recovered: RecoveredLog }, options: NormalizedOptions) {
    const recovered = opened.recovered;
    super({ name: `wal-kv store ${opened.dir}`, io: opened.io, durability: options.durability, durableThrough: recovered.lastSeq, recovery: recovered.report, lock: opened.lock, overlay: opened.overlay, baseIo: opened.baseIo });
    const control: StoreControl = {
      poisonedBy: () => this.poisonedBy,
      poison: (error) => this.poison(error),
      flushedThrough: (seq) => this.flushedThrough(seq),
    };
    this.#state = createState(options, opened, control);
    this.#maintenance = new Maintenance(this.#state);
  }

  /**
   * Opens (creating if needed) the store in `dir`. The value type follows
   * `valueEncoding`: `string` (or a string subtype) for 'utf8', any type you name for
   * 'json', `Uint8Array` (or a subtype) for 'binary', the default; `WalKv.open<number>(dir)`
   * does not typecheck. With an encoding only known at run time, values are `unknown`.
   */
  static open<V extends string = string>(dir: string, options: WalKvOptions & { valueEncoding: 'utf8' }): Promise<WalKv<V>>;
  static open<V = unknown>(dir: string, options: WalKvOptions & { valueEncoding: 'json' }): Promise<WalKv<V>>;
  static open<V extends Uint8Array = Uint8Array>(dir: string, options?: WalKvOptions & { valueEncoding?: 'binary' }): Promise<WalKv<V>>;
  static open(dir: string, options?: WalKvOptions): Promise<WalKv<unknown>>;
  static async open<V>(dir: string, options?: WalKvOptions): Promise<WalKv<V>> {
    const normalized = normalizeOptions(dir, options);
    const opened = await openStoreDirectory(normalized.io, dir, async (store) => {
      const recovered = await recoverLog(store.io, dir, normalized.recovery, normalized.keysMax);
      // What was read back is what is on disk only once it is synced: only then may
      // the recovered seqs be reported durable.
      await recovered.file.datasync().catch((error: unknown) => {
        recovered.file.closeSync();
        throw error;
      });
      return recovered;
    }, { readOnly: normalized.readOnly });
    return new WalKv<V>(opened, normalized);
  }

  /** Writes `value` under `key`; returns its seq. */
  put(key: Key, value: V): number {
    this.assertWritable();
    const record = emptyRecord();
    preparePut(key, value, this.#state.options.valueEncoding, record);
    return this.#write(finish(record));
  }

  /** Deletes `key` (a no-op for the data when absent, still logged); returns its seq. */
  delete(key: Key): number {
    this.assertWritable();
    const record = emptyRecord();
    prepareDelete(key, record);
    return this.#write(finish(record));
  }

  /** Writes every pair as one atomic record; returns the seq of the last. */
  putBatch(entries: ReadonlyArray<readonly [Key, V]>): number;
  /**
   * Writes `values[i]` under `keys[i]` for every i as one atomic record (the arrays must
   * be of one length); returns the seq of the last. The same record as the pairs' form,
   * without a pair to build per put.
   */
  putBatch(keys: ReadonlyArray<Key>, values: ReadonlyArray<V>): number;
  putBatch(entriesOrKeys: ReadonlyArray<readonly [Key, V]> | ReadonlyArray<Key>, values?: ReadonlyArray<V>): number {
    this.assertWritable();
    const encoding = this.#state.options.valueEncoding;
    return this.#write(values === undefined ? preparePutBatch(entriesOrKeys, encoding) : preparePutColumns(entriesOrKeys, values, encoding));
  }

  /** Deletes every key as one atomic record (each logged, present or not); returns the seq of the last. */
  deleteBatch(keys: ReadonlyArray<Key>): number {
    this.assertWritable();
    return this.#write(prepareDeleteBatch(keys));
  }

  /**
   * Applies puts and deletes as one atomic record; returns the seq of the last. With
   * conditions (`ifSeq`, `ifAbsent`, checked against the store before the batch), writes
   * nothing and returns null unless every condition holds.
   */
  batch(operations: ReadonlyArray<BatchOperation<V>>): number;
  batch(operations: ReadonlyArray<ConditionalBatchOperation<V>>): number | null;
  batch(operations: ReadonlyArray<ConditionalBatchOperation<V>>): number | null {
    this.assertWritable();
    return this.#writeIf(prepareBatch(operations, this.#state.options.valueEncoding));
  }

  /** Writes `value` under `key` only if the key is absent; returns its seq, or null (nothing written). */
  putIfAbsent(key: Key, value: V): number | null {
    return this.#conditional(key, 'put', null, (record) => preparePut(key, value, this.#state.options.valueEncoding, record));
  }

  /**
   * Writes `value` under `key` only if the key's current value was written with `seq`
   * (what `put` returned, or `seqOf(key)`): compare-and-set for counters and leases.
   * Returns the new seq, or null (nothing written).
   */
  putIfSeq(key: Key, value: V, seq: number): number | null {
    return this.#conditional(key, 'put', seq, (record) => preparePut(key, value, this.#state.options.valueEncoding, record));
  }

  /** Deletes `key` only if its current value was written with `seq`; returns the delete's seq, or null (nothing written). */
  deleteIfSeq(key: Key, seq: number): number | null {
    return this.#conditional(key, 'del', seq, (record) => prepareDelete(key, record));
  }

  /** The seq of the write that gave `key` its current value, or undefined when absent. */
  seqOf(key: Key): number | undefined {
    this.assertOpen();
    const { index } = this.#state;
    return index.find(keyBytesOf(key)) ? index.found[2]! : undefined;
  }

  /** The value of `key`, verified against its CRC-32C, or undefined. */
  get(key: Key): V | undefined {
    this.assertOpen();
    const state = this.#state;
    const { index } = state;
    const encoding = state.options.valueEncoding;
    const length = index.read(key, state.writer.mappedSegments, index.scratch, 0);
    if (length >= 0) return (encoding === 'binary' ? ownedCopy(index.scratch, length) : decodeText(index.scratch.toString('utf8', 0, length), encoding)) as V;
    return length === READ_ABSENT ? undefined : (decodeValue(this.#readFound(), encoding) as V);
  }

  /**
   * The value bytes of `key`, verified against their CRC-32C, without a copy of their
   * own (whatever the valueEncoding), or undefined: the analogue of lmdb's
   * `getBinaryFast`. The view is valid only until the next call of any method of this
   * store (or of its read views and iterators), which may reuse its memory; copy it
   * (`Buffer.from(view)`) to keep it.
   */
  getView(key: Key): Uint8Array | undefined {
    this.assertOpen();
    const state = this.#state;
    const { index } = state;
    const length = index.read(key, state.writer.mappedSegments, index.scratch, 0);
    if (length >= 0) return index.scratch.subarray(0, length);
    return length === READ_ABSENT ? undefined : this.#readFound();
  }

  has(key: Key): boolean {
    this.assertOpen();
    const { index } = this.#state;
    return index.findGiven(key) ?? index.find(keyBytesOf(key));
  }

  get size(): number {
    this.assertOpen();
    return this.#state.index.size;
  }

  /**
   * A read view of the store as it is now (see `ReadView`): consistent reads across
   * several calls while writes go on. Release it with `close()` or `using`.
   */
  snapshot(): ReadView<V> {
    this.assertOpen();
    return new ReadView<V>(this.#state, () => this.assertOpen());
  }

  /**
   * Keys in byte order within the range (see `RangeOptions`: gt, gte, lt, lte, reverse,
   * limit, prefix), as of the call: the iterator reads through a view of its own,
   * released when it ends, is stopped, or is garbage collected.
   */
  keys(options: RangeOptions = {}): IterableIterator<string | Uint8Array> {
    return this.#iterate(options, storeProjections<V>(this.#state).keys);
  }

  /** Values in key byte order within the range, as of the call; each is read and verified when it is yielded. */
  values(options: RangeOptions = {}): IterableIterator<V> {
    return this.#iterate(options, storeProjections<V>(this.#state).values);
  }

  /**
   * [key, value] pairs in key byte order within the range, as of the call. Keys are
   * fetched from the index a batch at a time; each value is read (and verified) when its
   * pair is yielded.
   */
  entries(options: RangeOptions = {}): IterableIterator<[string | Uint8Array, V]> {
    return this.#iterate(options, storeProjections<V>(this.#state).entries);
  }

  /**
   * `sync` on the calling thread: hands the buffered records to the OS and runs one
   * fdatasync of the log before it returns the durable seq. It blocks the event loop for
   * that fdatasync and shares the async path's group commit (it claims only records
   * written before its fdatasync began; a failure poisons the store). It does not wait
   * for a background snapshot or compaction; while a compaction switches logs (the new log
   * is not yet in place, so nothing written to it can be called durable) it refuses with
   * KEEL_UNSUPPORTED and changes nothing: use `sync()` then.
   */
  override syncSync(): number {
    this.assertWritable();
    if (this.#state.switching !== null) throw new KeelError('KEEL_UNSUPPORTED', 'syncSync cannot run while a compaction switches logs; use sync()');
    return super.syncSync();
  }

  /**
   * Writes a checkpoint of the index now (after the log is durable through it), so that
   * open loads it instead of replaying the log before it.
   */
  checkpoint(): Promise<void> {
    try {
      this.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#maintenance.run('checkpoint');
  }

  /** Rewrites the log with only its live records, then snapshots the new log. */
  compact(): Promise<void> {
    try {
      this.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#maintenance.run('compact');
  }

  protected storeStats(): WalKvStats {
    const { writer, index } = this.#state;
    const logBytes = writer.end;
    return {
      generation: this.#state.generation,
      keys: index.size,
      lastSeq: this.#state.lastSeq,
      durableSeq: this.durableThrough,
      logBytes,
      bufferedBytes: writer.bufferedBytes,
      deadBytes: index.deadBytes,
      garbageRatio: logBytes === 0 ? 0 : index.deadBytes / logBytes,
      checkpointPosition: this.#state.checkpointPosition,
      checkpointsWritten: this.#state.checkpointsWritten,
      compactions: this.#state.compactions,
      lastMaintenanceError: this.#maintenance.lastError,
      indexBytes: index.table.memoryBytes(),
    };
  }

  protected writtenThrough(): number {
    return this.#state.lastSeq;
  }

  protected async flushToDisk(): Promise<void> {
    const state = this.#state;
    // During a compaction switch the new log is not yet in place: syncing it would claim
    // durability for a file a crash could still throw away.
    while (state.switching !== null) await state.switching;
    const writer = state.writer;
    writer.flush();
    const synced = writer.datasync();
    // The index takes the last write in while the fdatasync runs on the log's sync
    // thread (see DeferredApply): the two costs overlap instead of adding up.
    try {
      state.index.applyPending();
    } finally {
      await synced;
    }
  }

  protected flushToDiskSync(): void {
    const writer = this.#state.writer;
    writer.flush();
    writer.file.datasyncSync();
  }

  protected handToOs(): void {
    this.#state.writer.flush();
  }

  protected override async beforeClose(): Promise<void> {
    // As RocksDB flushes its memtables at shutdown: the next open loads a checkpoint and
    // replays almost nothing, however lazily the automatic ones ran.
    if (this.#checkpointDueAtClose()) await this.#maintenance.run('checkpoint');
    await this.#maintenance.close();
  }

  /** Not under 'none': a checkpoint must sync the log it points into, and 'none' closes without a sync. */
  #checkpointDueAtClose(): boolean {
    if (this.readOnly || this.poisonedBy !== null || this.#state.options.durability.mode === 'none') return false;
    const { writer, options, checkpointPosition } = this.#state;
    return writer.end - checkpointPosition >= options.checkpointEveryBytes;
  }

  /**
   * The identity, the current log up to its last whole record, and the newest snapshot of
   * that log: the files this store has read, and holds open, so a writer in another
   * process removing an older snapshot or log meanwhile cannot take them away from a
   * backup made from a read-only view.
   */
  protected override backupPlan(): BackupPlan {
    const { writer, dir, generation, snapshotSeq, snapshotGeneration } = this.#state;
    if (!this.readOnly) writer.flush();
    const files = [
      { path: joinPath(dir, IDENTITY_FILE_NAME), name: IDENTITY_FILE_NAME, length: 0 },
      { path: writer.path, name: logFileName(generation), length: writer.end },
    ];
    if (snapshotSeq !== null && snapshotGeneration === generation) files.push({ path: joinPath(dir, snapshotFileName(snapshotSeq)), name: snapshotFileName(snapshotSeq), length: 0 });
    return { directory: true, files: files.map((file) => (file.length > 0 ? file : { ...file, length: this.io.stat(file.path)?.size ?? 0 })) };
  }

  protected override openCopy(target: string, io: Io): Promise<WalKv> {
    return WalKv.open(target, { io, readOnly: true });
  }

  protected override async readEverything(): Promise<void> {
    for (const _entry of this.entries());
  }

  /** Read after maintenance settled: a compaction may have switched the writer. */
  protected closeFiles(): void {
    const state = this.#state;
    state.views.clear();
    releaseRetiredLogs(state);
    state.writer.file.closeSync();
  }

  /** The verified value bytes of the entry the index's last lookup left in `found` (a copy the caller owns). */
  #readFound(): Buffer {
    const state = this.#state;
    const found = state.index.found;
    const writer = found[5] === 0 ? state.writer : logOf(state, state.generation - 1);
    return writer.readValue(found[3]!, found[0]!, found[1]!);
  }

  /** One operation under one condition (`seq` null: the key must be absent). */
  #conditional(key: Key, type: 'put' | 'del', seq: number | null, prepare: (record: PreparedRecord) => void): number | null {
    this.assertWritable();
    const record = emptyRecord();
    prepare(record);
    prepareCondition(record.keys[0]!, type, seq ?? undefined, seq === null ? true : undefined, record);
    return this.#writeIf(finish(record));
  }

  /**
   * Writes the record if every condition holds of the index now. Writes are synchronous,
   * so nothing can come between the check and the write, and the record is one frame:
   * a crash keeps all of it or none.
   */
  #writeIf(record: PreparedRecord): number | null {
    const { index } = this.#state;
    for (const condition of record.conditions) {
      const present = index.find(condition.key);
      if (condition.seq === null ? present : !present || index.found[2] !== condition.seq) return null;
    }
    return this.#write(record);
  }

  #write(record: PreparedRecord): number {
    const state = this.#state;
    if (record.keys.length === 0) return state.lastSeq;
    if (!state.writer.fits(record.payloadBytes)) state.writer.flush();
    const captureSeq = newestViewSeq(state);
    // The index refuses, before the record is sealed or counted as written, a write that
    // would take the key count above the limit: nothing of it reaches the log.
    if (!state.writer.appendRecord(record, state.lastSeq + 1, state.index, state.options.keysMax, captureSeq)) {
      throw new KeelError('KEEL_TOO_LARGE', `this write would leave more than ${state.options.keysMax} keys in the store (keysMax). Nothing was written`);
    }
    if (captureSeq > 0) captureReplaced(state);
    state.lastSeq += record.keys.length;
    this.#scheduleFlush();
    this.wrote(record.keys.length);
    this.#maybeMaintain();
    return state.lastSeq;
  }

  /** Hands buffered records to the OS at the next turn, so 'none' still reaches the page cache. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.isClosed || this.poisonedBy !== null) return;
      try {
        this.#state.writer.flush();
      } catch {
        // Poisoned: the next call reports it.
      }
    });
  }

  #maybeMaintain(): void {
    const { writer, index, options } = this.#state;
    if (this.#maintenance.busy) return;
    // A checkpoint is due after checkpointEveryBytes of log growth, or after a multiple of
    // what the last one took if that is more: checkpoint work per put then stays constant,
    // and small, as the key count grows (see CHECKPOINT_LOG_GROWTH_RATIO). The garbage
    // ratio leaves out the write just sealed: the index takes it in later (DeferredApply).
    if (writer.end - this.#state.checkpointPosition >= Math.max(options.checkpointEveryBytes, CHECKPOINT_LOG_GROWTH_RATIO * this.#state.snapshotBytes)) {
      this.#maintenance.start('checkpoint');
    } else if (
      writer.end >= Math.max(COMPACT_LOG_BYTES_MIN, this.#maintenance.compactRetryAt) &&
      index.deadBytesApplied / writer.end > options.compactWhenGarbageRatio
    ) {
      this.#maintenance.start('compact');
    }
  }

  /** An iterator over `range` through a view taken now, released when the iteration ends. */
  #iterate<T>(options: RangeOptions, project: Projection<T>): IterableIterator<T> {
    this.assertOpen();
    const range = normalizeRange(options);
    const state = this.#state;
    const view = openView(state);
    return new ReleasingIterator(new ViewCursor(state, view, range, this.#guard, true, project.readsValues), project, () => releaseView(state, view));
  }
}

function createState(options: NormalizedOptions, opened: StoreDirectory & { recovered: RecoveredLog }, control: StoreControl): StoreState {
  const recovered = opened.recovered;
  return {
    options,
    io: opened.io,
    dir: opened.dir,
    index: recovered.index,
    control,
    writer: new LogWriter(recovered.file, recovered.header.generation, recovered.end, recovered.lastFrameStart, recovered.file.path),
    storeId: recovered.header.storeId,
    generation: recovered.header.generation,
    indexedFrom: recovered.header.generation,
    lastSeq: recovered.lastSeq,
    checkpointPosition: recovered.checkpointPosition,
    snapshotSeq: recovered.snapshotSeq,
    snapshotGeneration: recovered.header.generation,
    snapshotBytes: 0,
    switching: null,
    views: new Set(),
    retiredLogs: new Map(),
    checkpointsWritten: 0,
    compactions: 0,
  };
}

