import {
  DurabilityDriver,
  GroupCommit,
  KeelError,
  Lifecycle,
  joinPath,
  syncsOnClose,
  type GroupCommitTarget,
  type IoFile,
  type RecoveryReport,
  lockStoreDirectory,
  createDirectoryDurably,
  badArgument,
  describeType,
} from '@keel/core';
import { prepareBatch, prepareDelete, preparePut, preparePutBatch, emptyRecord, finish, type BatchOperation, type PreparedRecord } from './batch.js';
import { decodeKey, decodeValue, indexKeyOf, indexPrefixOf, type Key } from './encoding.js';
import { LOCK_FILE_NAME, OPERATION_PUT } from './format.js';
import { KeyIndex } from './key-index.js';
import { COMPACT_LOG_BYTES_MIN } from './limits.js';
import { LogWriter } from './log-writer.js';
import { Maintenance } from './maintenance.js';
import { normalizeOptions, type NormalizedOptions, type WalKvOptions } from './options.js';
import { recoverLog, type RecoveredLog } from './recovery.js';
import { GuardedIo } from './guarded-io.js';
import type { WalKvStats } from './stats.js';

/** The state the store and its maintenance share. */
export interface StoreState {
  readonly options: NormalizedOptions;
  /** `options.io` behind a guard that poisons on any failed write or sync. */
  readonly io: GuardedIo;
  readonly dir: string;
  readonly index: KeyIndex;
  readonly lifecycle: Lifecycle;
  readonly commit: GroupCommit;
  /** The store's identity, written into every log header and snapshot. */
  readonly storeId: Uint8Array;
  writer: LogWriter;
  generation: number;
  lastSeq: number;
  /** Log position and seq the newest snapshot covers, and its generation. */
  snapshotPosition: number;
  snapshotSeq: number | null;
  snapshotGeneration: number;
  /** Size of the newest snapshot this process wrote (0 before the first). */
  snapshotBytes: number;
  /** While compaction switches logs: a flush must wait for the new log to be in place. */
  switching: Promise<void> | null;
  snapshotsWritten: number;
  compactions: number;
}

/**
 * A key-value store over a checksummed log with an in-memory index, index snapshots and
 * log compaction. Writes are synchronous and return their seq; `sync()` says through
 * which seq everything is durable. See the README for the guarantees and the format.
 */
export class WalKv<V = unknown> implements AsyncDisposable {
  readonly recovery: RecoveryReport;
  readonly #state: StoreState;
  readonly #lock: IoFile;
  readonly #driver: DurabilityDriver;
  readonly #maintenance: Maintenance;
  #flushScheduled = false;

  private constructor(state: StoreState, lock: IoFile, recovery: RecoveryReport) {
    this.#state = state;
    this.#lock = lock;
    this.recovery = recovery;
    this.#driver = new DurabilityDriver(state.options.durability, state.commit);
    this.#maintenance = new Maintenance(state);
  }

  static async open<V = unknown>(dir: string, options?: WalKvOptions): Promise<WalKv<V>> {
    const normalized = normalizeOptions(dir, options);
    const { io } = normalized;
    await createDirectoryDurably(io, dir);
    const lock = lockStoreDirectory(io, dir);
    try {
      const recovered = await recoverLog(io, dir, normalized.recovery);
      // What was read back is what is on disk only once it is synced: only then may
      // the recovered seqs be reported durable.
      await recovered.file.datasync().catch((error: unknown) => {
        recovered.file.closeSync();
        throw error;
      });
      const state = createState(normalized, dir, recovered);
      return new WalKv<V>(state, lock, recovered.report);
    } catch (error) {
      lock.closeSync();
      throw error;
    }
  }

  /** Writes `value` under `key`; returns its seq. */
  put(key: Key, value: V): number {
    this.#state.lifecycle.assertWritable();
    const record = emptyRecord();
    preparePut(key, value, this.#state.options.valueEncoding, record);
    return this.#write(finish(record));
  }

  /** Deletes `key` (a no-op for the data when absent, still logged); returns its seq. */
  delete(key: Key): number {
    this.#state.lifecycle.assertWritable();
    const record = emptyRecord();
    prepareDelete(key, record);
    return this.#write(finish(record));
  }

  /** Writes every pair as one atomic record; returns the seq of the last. */
  putBatch(entries: ReadonlyArray<readonly [Key, V]>): number {
    this.#state.lifecycle.assertWritable();
    return this.#write(preparePutBatch(entries, this.#state.options.valueEncoding));
  }

  /** Applies puts and deletes as one atomic record; returns the seq of the last. */
  batch(operations: ReadonlyArray<BatchOperation<V>>): number {
    this.#state.lifecycle.assertWritable();
    return this.#write(prepareBatch(operations, this.#state.options.valueEncoding));
  }

  /** The value of `key`, verified against its CRC-32C, or undefined. */
  get(key: Key): V | undefined {
    this.#state.lifecycle.assertOpen();
    const { index, writer, options } = this.#state;
    const indexKey = indexKeyOf(key);
    const slot = index.slotOf(indexKey);
    if (slot === undefined) return undefined;
    return decodeValue(writer.readValue(indexKey, index.position(slot), index.length(slot)), options.valueEncoding) as V;
  }

  has(key: Key): boolean {
    this.#state.lifecycle.assertOpen();
    return this.#state.index.slots.has(indexKeyOf(key));
  }

  get size(): number {
    this.#state.lifecycle.assertOpen();
    return this.#state.index.size;
  }

  /** Keys in byte order, optionally only those starting with `prefix`. */
  *keys(options: { prefix?: Key } = {}): IterableIterator<string | Uint8Array> {
    for (const indexKey of this.#matching(prefixOption(options))) yield decodeKey(indexKey, this.#state.options.keyEncoding);
  }

  /**
   * [key, value] pairs in key byte order. The key set is taken when iteration starts;
   * each value is read (and verified) when its pair is yielded, and keys deleted since
   * are skipped.
   */
  *entries(options: { prefix?: Key } = {}): IterableIterator<[string | Uint8Array, V]> {
    const { index, options: storeOptions } = this.#state;
    for (const indexKey of this.#matching(prefixOption(options))) {
      const slot = index.slotOf(indexKey);
      if (slot === undefined) continue;
      const value = decodeValue(this.#state.writer.readValue(indexKey, index.position(slot), index.length(slot)), storeOptions.valueEncoding) as V;
      yield [decodeKey(indexKey, storeOptions.keyEncoding), value];
    }
  }

  /** Makes every write so far durable; resolves with the seq through which all is durable. */
  sync(): Promise<number> {
    try {
      this.#state.lifecycle.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#syncAfterRunningWrites();
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
  syncSync(): number {
    const state = this.#state;
    state.lifecycle.assertOpen();
    if (state.switching !== null) throw new KeelError('KEEL_UNSUPPORTED', 'syncSync cannot run while a compaction switches logs; use sync()');
    const durable = state.commit.syncSync();
    if (state.lifecycle.poisoned !== null) throw state.lifecycle.poisoned;
    return durable;
  }

  /**
   * A write or sync that a background snapshot or compaction started before this call may
   * still fail: resolve only once those settled, and never after any failure.
   */
  async #syncAfterRunningWrites(): Promise<number> {
    const running = this.#state.io.settled();
    const durable = await this.#state.commit.sync();
    await running;
    const poison = this.#state.lifecycle.poisoned;
    if (poison !== null) throw poison;
    return durable;
  }

  /** Writes an index snapshot now (after the log is durable through it). */
  snapshot(): Promise<void> {
    try {
      this.#state.lifecycle.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#maintenance.run('snapshot');
  }

  /** Rewrites the log with only its live records, then snapshots the new log. */
  compact(): Promise<void> {
    try {
      this.#state.lifecycle.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#maintenance.run('compact');
  }

  stats(): WalKvStats {
    this.#state.lifecycle.assertOpen();
    const { writer, index, commit } = this.#state;
    const logBytes = writer.end;
    return {
      generation: this.#state.generation,
      keys: index.size,
      lastSeq: this.#state.lastSeq,
      durableSeq: commit.durableThrough,
      logBytes,
      bufferedBytes: writer.bufferedBytes,
      deadBytes: index.deadBytes,
      garbageRatio: logBytes === 0 ? 0 : index.deadBytes / logBytes,
      snapshotPosition: this.#state.snapshotPosition,
      snapshotsWritten: this.#state.snapshotsWritten,
      compactions: this.#state.compactions,
      flushes: commit.flushCount,
      poisoned: this.#state.lifecycle.poisoned !== null,
      lastMaintenanceError: this.#maintenance.lastError,
    };
  }

  close(): Promise<void> {
    return this.#state.lifecycle.close(async () => {
      this.#driver.stop();
      await this.#maintenance.idle();
      // Read after maintenance settled: a compaction may have switched the writer.
      const { lifecycle, writer, commit, options } = this.#state;
      let failure: unknown = null;
      if (lifecycle.poisoned === null) {
        try {
          writer.flush();
          if (syncsOnClose(options.durability)) await commit.sync();
        } catch (error) {
          failure = error;
        }
      }
      await commit.drain();
      writer.file.closeSync();
      this.#lock.closeSync();
      if (failure !== null) throw failure;
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #write(record: PreparedRecord): number {
    const state = this.#state;
    if (record.operations.length === 0) return state.lastSeq;
    if (!state.writer.fits(record.payloadBytes)) this.#flushOrPoison();
    const firstSeq = state.lastSeq + 1;
    const positions = state.writer.appendRecord(record.operations, record.payloadBytes, (i) => firstSeq + i);
    for (let i = 0; i < record.operations.length; i++) {
      const operation = record.operations[i]!;
      if (operation.type === OPERATION_PUT) state.index.applyPut(operation.key, positions[i]!, operation.value!.length, firstSeq + i);
      else state.index.applyDelete(operation.key);
    }
    state.lastSeq += record.operations.length;
    this.#scheduleFlush();
    this.#driver.afterWrite(record.operations.length);
    this.#maybeMaintain();
    return state.lastSeq;
  }

  #flushOrPoison(): void {
    try {
      this.#state.writer.flush();
    } catch (error) {
      this.#state.lifecycle.poison(error);
      this.#state.commit.poison(error);
      throw error;
    }
  }

  /** Hands buffered records to the OS at the next turn, so 'none' still reaches the page cache. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#state.lifecycle.closed || this.#state.lifecycle.poisoned) return;
      try {
        this.#flushOrPoison();
      } catch {
        // Poisoned: the next call reports it.
      }
    });
  }

  #maybeMaintain(): void {
    const { writer, index, options } = this.#state;
    if (this.#maintenance.busy) return;
    // A snapshot is due after snapshotEveryBytes of log growth, or after as many bytes as the
    // last snapshot took if that is more: writing one then never costs more than replaying
    // the log it saves, so snapshot work per put stays constant as the key count grows.
    if (writer.end - this.#state.snapshotPosition >= Math.max(options.snapshotEveryBytes, this.#state.snapshotBytes)) {
      this.#maintenance.start('snapshot');
    } else if (
      writer.end >= Math.max(COMPACT_LOG_BYTES_MIN, this.#maintenance.compactRetryAt) &&
      index.deadBytes / writer.end > options.compactWhenGarbageRatio
    ) {
      this.#maintenance.start('compact');
    }
  }

  /** Index keys matching `prefix`, sorted in byte order (latin1 strings sort by byte). */
  *#matching(prefix: Key | undefined): Generator<string> {
    this.#state.lifecycle.assertOpen();
    const prefixKey = indexPrefixOf(prefix);
    const matched: string[] = [];
    for (const indexKey of this.#state.index.slots.keys()) if (indexKey.startsWith(prefixKey)) matched.push(indexKey);
    matched.sort();
    for (const indexKey of matched) {
      this.#state.lifecycle.assertOpen();
      if (this.#state.index.slots.has(indexKey)) yield indexKey;
    }
  }
}

function createState(options: NormalizedOptions, dir: string, recovered: RecoveredLog): StoreState {
  const lifecycle = new Lifecycle(`wal-kv store ${dir}`);
  // The group commit and the state refer to each other; the target reads the state lazily.
  const commit = new GroupCommit(groupCommitTarget(() => state), recovered.lastSeq, (error) => lifecycle.poison(error));
  // The lifecycle is poisoned at once; the group commit learns of a failed log sync
  // itself (so that its waiters get the original error), and sync() checks the lifecycle.
  const io = new GuardedIo(options.io, (error) => lifecycle.poison(error));
  const state: StoreState = {
    options,
    io,
    dir,
    index: recovered.index,
    lifecycle,
    commit,
    writer: new LogWriter(io.wrap(recovered.file), recovered.end, recovered.lastFrameStart, recovered.file.path),
    storeId: recovered.header.storeId,
    generation: recovered.header.generation,
    lastSeq: recovered.lastSeq,
    snapshotPosition: recovered.snapshotPosition,
    snapshotSeq: recovered.snapshotSeq,
    snapshotGeneration: recovered.header.generation,
    snapshotBytes: 0,
    switching: null,
    snapshotsWritten: 0,
    compactions: 0,
  };
  return state;
}

function groupCommitTarget(stateOf: () => StoreState): GroupCommitTarget {
  return {
    writtenThrough: (): number => stateOf().lastSeq,
    flush: async (): Promise<void> => {
      const state = stateOf();
      // During a compaction switch the new log is not yet in place: syncing it would
      // claim durability for a file a crash could still throw away.
      while (state.switching !== null) await state.switching;
      const writer = state.writer;
      writer.flush();
      await writer.datasync();
    },
    flushSync: (): void => {
      const writer = stateOf().writer;
      writer.flush();
      writer.file.datasyncSync();
    },
  };
}

/** The `prefix` of keys()/entries() options; wrong options are the caller's KEEL_BAD_ARGUMENT. */
function prefixOption(options: unknown): Key | undefined {
  if (options === null || typeof options !== 'object') throw badArgument(`options must be an object like { prefix }, got ${describeType(options)}`);
  return (options as { prefix?: Key }).prefix;
}
