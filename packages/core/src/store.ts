import { DurabilityDriver } from './durability-driver.js';
import { syncsOnClose, type DurabilityPolicy } from './durability.js';
import { GroupCommit } from './group-commit.js';
import type { GuardedIo } from './guarded-io.js';
import { KeelError } from './errors.js';
import { assertBackupOpensCleanly, copyStoreFiles, type BackupOptions, type BackupReport, type BackupSource } from './backup.js';
import type { Io, IoFile } from './io.js';
import type { OverlayIo } from './overlay-io.js';
import { Lifecycle } from './lifecycle.js';
import type { RecoveryReport } from './recovery.js';

const READ_ONLY_DURABILITY: DurabilityPolicy = Object.freeze({ mode: 'none' });

/** What a backend hands the store base once its files are open and recovered. */
export interface StoreSetup {
  /** How messages name the store: `journal /data/app.journal`. */
  readonly name: string;
  /** The store's guarded Io (see `openStoreDirectory` / `guardIo`); the base arms it. */
  readonly io: GuardedIo;
  readonly durability: DurabilityPolicy;
  /** Every position below this was durable when open finished (0 when open synced nothing). */
  readonly durableThrough: number;
  readonly recovery: RecoveryReport;
  /** The directory lock, released after the backend's files; null when a file locks itself or the open is read-only. */
  readonly lock: IoFile | null;
  /** Set for a read-only open: the overlay recovery ran against; writes and syncs get KEEL_READ_ONLY. */
  readonly overlay?: OverlayIo | null;
  /**
   * The caller's Io, unguarded: a backup writes its copy through it, so that a full
   * backup disk fails the backup, not the store.
   */
  readonly baseIo?: Io;
}

/** What a backup copies, captured in one turn so that no write lands in between. */
export interface BackupPlan {
  /** The store is a directory of files; false for one file (the journal). */
  readonly directory: boolean;
  readonly files: readonly { readonly path: string; readonly name: string; readonly length: number }[];
}

/**
 * The fields every store's `stats()` reports, in the store's own positions (byte offsets
 * for the journal and payload-store, record offsets for segment-log, seqs for wal-kv).
 */
export interface StoreStats {
  durability: DurabilityPolicy;
  /** Every position below this has been written (handed to the OS or buffered). */
  writtenThrough: number;
  /** Every position below this is durable. */
  durableThrough: number;
  /** Group commits run since open (one fdatasync round serves all its waiters). */
  flushes: number;
  poisoned: boolean;
  closed: boolean;
  /** Opened with `{ readOnly: true }`: no lock, nothing on disk changes. */
  readOnly: boolean;
}

/**
 * The protocol every keel store shares, in abstract-level's spirit: the public methods
 * here check state and run the protocol (group commit, durability policy, poisoning,
 * lock, close), and a backend implements a few protected methods for its format. A
 * backend's own public methods start with `assertOpen()` or `assertWritable()`, and call
 * `wrote(n)` after each write they acknowledge.
 *
 * Poisoning has one source: the guarded Io. Any failed mutation through it, whichever
 * file and whichever task it came from, poisons the store before the error reaches the
 * caller; from then on writes and syncs are refused with KEEL_POISONED, the waiters of
 * that moment get the failure itself, and close() releases everything and rejects.
 */
export abstract class Store<Stats extends object = object> implements AsyncDisposable {
  readonly recovery: RecoveryReport;
  /** Every file the store opens goes through this Io, so every failure poisons. */
  protected readonly io: GuardedIo;
  readonly #name: string;
  readonly #lifecycle: Lifecycle;
  readonly #commit: GroupCommit;
  readonly #driver: DurabilityDriver;
  readonly #lock: IoFile | null;
  readonly #overlay: OverlayIo | null;
  readonly #baseIo: Io | null;
  #maintenance: Promise<unknown> = Promise.resolve();
  /** The group commit's promise whose settled wrapper `#shared` is: see `#settledAfter`. */
  #sharedFor: Promise<number> | null = null;
  #shared: Promise<number> | null = null;

  protected constructor(setup: StoreSetup) {
    this.recovery = setup.recovery;
    this.io = setup.io;
    this.#lock = setup.lock;
    this.#overlay = setup.overlay ?? null;
    this.#baseIo = setup.baseIo ?? null;
    this.#name = setup.name;
    this.#lifecycle = new Lifecycle(setup.name);
    this.#commit = new GroupCommit(
      {
        writtenThrough: () => this.writtenThrough(),
        flush: () => this.flushToDisk(),
        flushSync: () => this.flushToDiskSync(),
      },
      setup.durableThrough,
      (error) => this.#poison(error),
    );
    // A read-only store has nothing to make durable: no timer, no flush on its own.
    this.#driver = new DurabilityDriver(this.#overlay === null ? setup.durability : READ_ONLY_DURABILITY, this.#commit);
    setup.io.arm((error) => this.#poison(error));
  }

  // ---- What a backend implements -------------------------------------------------

  /** The position every acknowledged write has reached: what a flush started now covers. */
  protected abstract writtenThrough(): number;

  /**
   * Hands buffered writes to the OS, then makes everything through `writtenThrough()` (as
   * read before the call) durable, off the event loop (`datasync()`, `syncDir()`).
   */
  protected abstract flushToDisk(): Promise<void>;

  /** The same on the calling thread, for `syncSync()`. */
  protected abstract flushToDiskSync(): void;

  /** Hands buffered writes to the OS without syncing (close under durability 'none'). */
  protected abstract handToOs(): void;

  /** Closes every file the backend holds; runs once, after the final sync, poisoned or not. */
  protected abstract closeFiles(): void;

  /** The backend's own `stats()` fields. */
  protected abstract storeStats(): Stats;

  /**
   * Background writes a flush leaves to follow it (a backend's own, like segment-log's
   * sealed index frames) end here. A backup waits for them between its sync and its plan,
   * so that no file the plan names is being rewritten while it is copied; close waits for
   * them once its last flush has ended (with durability 'none' one may still have been
   * running after the final sync was skipped), before the files close. A write that failed
   * has poisoned the store already: close rejects with that, whatever this returns.
   */
  protected async settleBackgroundWrites(): Promise<void> {}

  /**
   * The files a backup copies and how many bytes of each: whole frames only, at least
   * everything durable (a read-only store: everything it sees). Called right after a sync
   * (and `settleBackgroundWrites`), synchronously, so the set is consistent.
   */
  protected backupPlan(): BackupPlan {
    throw new KeelError('KEEL_UNSUPPORTED', `${this.#name} cannot make backups`);
  }

  /** Opens the store at `target` read-only through `io` (a backup's copy, to read it back). */
  protected openCopy(_target: string, _io: Io): Promise<Store> {
    throw new KeelError('KEEL_UNSUPPORTED', `${this.#name} cannot verify backups`);
  }

  /** Reads everything the store holds, checking every checksum (and index); throws KEEL_CORRUPT on damage. */
  protected async readEverything(): Promise<void> {
    throw new KeelError('KEEL_UNSUPPORTED', `${this.#name} cannot verify backups`);
  }

  /** Called first in close(): stop followers, wait for background work of the backend's own. */
  protected async beforeClose(): Promise<void> {}

  /** Called after the final sync of a healthy store (`synced` false under 'none'). */
  protected async afterFinalSync(_synced: boolean): Promise<void> {}

  // ---- The protocol, for backends -------------------------------------------------

  protected assertOpen(): void {
    this.#lifecycle.assertOpen();
  }

  protected assertWritable(): void {
    this.#lifecycle.assertWritable();
    if (this.#overlay !== null) throw new KeelError('KEEL_READ_ONLY', `${this.#name} was opened read-only; open it without readOnly to write`);
  }

  /** Whether the store was opened with `{ readOnly: true }`. */
  get readOnly(): boolean {
    return this.#overlay !== null;
  }

  /** Tells the durability policy that `writes` acknowledged writes were made. */
  protected wrote(writes = 1): void {
    this.#driver.afterWrite(writes);
  }

  /** Resolves with the durable frontier once every position below `position` is durable. */
  protected syncThroughPosition(position: number): Promise<number> {
    try {
      this.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#settledAfter(this.#commit.syncThrough(position));
  }

  protected syncThroughPositionSync(position: number): number {
    this.assertWritable();
    return this.#commit.syncThroughSync(position);
  }

  /**
   * Runs background or maintenance work one task at a time, after any flush in flight
   * (which may still use the files it replaces). A failure of the task poisons the store:
   * maintenance that fails halfway leaves files the running store can no longer trust.
   */
  protected maintain<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(async () => {
      this.assertWritable();
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

  /**
   * For the backend's own background work (an index snapshot that may only cover durable
   * bytes): waits until the group commit covers `position`, whatever the lifecycle state,
   * so that work already running when close() began can finish.
   */
  protected flushedThrough(position: number): Promise<number> {
    return this.#commit.syncThrough(position);
  }

  /** Starts a group commit soon, whatever the durability policy (a roll's files must become durable). */
  protected requestFlush(): void {
    this.#commit.request();
  }

  protected get durableThrough(): number {
    return this.#commit.durableThrough;
  }

  protected get durabilityPolicy(): DurabilityPolicy {
    return this.#driver.policy;
  }

  protected get poisonedBy(): Error | null {
    return this.#lifecycle.poisoned;
  }

  protected get isClosed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Poisons the store for a failure that did not pass through its Io (a broken invariant). */
  protected poison(error: unknown): void {
    this.#poison(error);
  }

  // ---- The public protocol ---------------------------------------------------------

  /** Makes every write so far durable; resolves with the durable frontier. */
  sync(): Promise<number> {
    try {
      this.assertWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#settledAfter(this.#commit.sync());
  }

  /**
   * `sync` on the calling thread (Node's xSync convention): hands buffered writes to the
   * OS and runs the fdatasyncs before it returns the durable frontier. It blocks the event
   * loop for them and shares the async path's group commit: it claims only what was
   * written before its fdatasync began, and a failure poisons the store.
   */
  syncSync(): number {
    this.assertWritable();
    return this.#commit.syncSync();
  }

  /**
   * An online backup: a consistent copy of the store at `target`, made while writes go on,
   * at a point no earlier than the durable point when it began (a writable store syncs
   * first). The copy is written under `<target>.partial`, datasynced, renamed to `target`
   * and its parent synced, then opened read-only and read back in full before the promise
   * resolves, so a resolved backup is a whole, verified store; a crash leaves `target`
   * absent or whole. The source is only read. Works on a read-only store too (a backup
   * beside a writer in another process).
   *
   * Files are copied by reflink where the file system shares blocks (XFS, Btrfs), else
   * inside the kernel (copy_file_range), else through memory; `copiedBy` in the report
   * says which. `options.onProgress` follows the copy in bytes (see `BackupOptions`).
   */
  async backup(target: string, options: BackupOptions = {}): Promise<BackupReport> {
    this.assertOpen();
    if (this.#overlay === null) await this.sync();
    const io = this.#baseIo;
    if (io === null) throw new KeelError('KEEL_UNSUPPORTED', `${this.#name} cannot make backups`);
    await this.settleBackgroundWrites();
    const plan = this.backupPlan();
    const sources: BackupSource[] = [];
    try {
      // Opened in the same turn as the plan: what a compaction or retention unlinks later stays readable.
      for (const file of plan.files) sources.push({ file: this.io.open(file.path), name: file.name, length: file.length });
      const report = await copyStoreFiles(io, sources, target, plan.directory, options);
      await this.#verifyBackup(target, io);
      return report;
    } finally {
      for (const source of sources) source.file.closeSync();
    }
  }

  /** A verified backup opens read-only with nothing to repair, and every record reads back checked. */
  async #verifyBackup(target: string, io: Io): Promise<void> {
    const copy = await this.openCopy(target, io);
    try {
      assertBackupOpensCleanly(copy.recovery, target);
      await copy.readEverything();
    } finally {
      await copy.close();
    }
  }

  /** The shared fields, then the backend's own. Works after close (then `closed` is true). */
  stats(): StoreStats & Stats {
    return {
      durability: this.#driver.policy,
      writtenThrough: this.writtenThrough(),
      durableThrough: this.#commit.durableThrough,
      flushes: this.#commit.flushCount,
      poisoned: this.#lifecycle.poisoned !== null,
      closed: this.#lifecycle.closed,
      readOnly: this.#overlay !== null,
      ...this.storeStats(),
    };
  }

  /**
   * Idempotent. Waits for background work, ends with a sync unless durability is 'none'
   * or the store is poisoned, then releases its files and its lock, also when that sync
   * fails (close then rejects with the failure). A poisoned store's close rejects with
   * KEEL_POISONED, so that nobody takes a successful close for "everything is durable".
   */
  close(): Promise<void> {
    return this.#lifecycle.close(() => this.#closeOnce());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #closeOnce(): Promise<void> {
    this.#driver.stop();
    let failure: unknown = null;
    try {
      await this.beforeClose();
      await this.#maintenance;
      if (this.#lifecycle.poisoned === null && this.#overlay === null) {
        const synced = syncsOnClose(this.#driver.policy);
        if (synced) await this.#commit.sync();
        else this.handToOs();
        await this.afterFinalSync(synced);
      }
    } catch (error) {
      failure = error;
    }
    await this.#commit.drain();
    await this.settleBackgroundWrites().catch(() => undefined);
    await this.io.settled();
    try {
      this.closeFiles();
    } finally {
      this.#lock?.closeSync();
      this.#overlay?.close();
    }
    if (failure !== null) throw failure;
  }

  /**
   * A write or sync that background work started before this sync may still fail: resolve
   * only once those settled, and never after any failure. Waiters of one flush share the
   * group commit's promise; while no such operation runs they share its wrapper too, so
   * that many writers waiting on one fdatasync cost one wrapper, not one each. A wrapper
   * is shared only until it checks for poisoning: a caller that comes later gets its own
   * check.
   */
  #settledAfter(durable: Promise<number>): Promise<number> {
    if (this.io.mutating) return this.#settledWhen(durable, this.io.settled());
    if (durable !== this.#sharedFor) {
      this.#sharedFor = durable;
      this.#shared = this.#settledWhen(durable, null);
    }
    return this.#shared as Promise<number>;
  }

  async #settledWhen(durable: Promise<number>, running: Promise<unknown> | null): Promise<number> {
    try {
      const frontier = await durable;
      // Awaited even when null: the guarded Io hears of an async failure in a promise
      // reaction, and this turn lets a failure from the caller's own turn poison first.
      await running;
      const poison = this.#lifecycle.poisoned;
      if (poison !== null) throw poison;
      return frontier;
    } finally {
      // Checked (or failed): nobody may join this wrapper any more.
      if (this.#sharedFor === durable) this.#sharedFor = null;
    }
  }

  #poison(error: unknown): void {
    this.#lifecycle.poison(error);
    this.#commit.poison(error);
  }
}
