import { KeelError } from './errors.js';

/**
 * What a group commit makes durable. Positions are whatever the store counts in (byte
 * offsets for a journal, record offsets for a segment log, sequence numbers for a
 * key-value store) as long as they only grow.
 */
export interface GroupCommitTarget {
  /** The position every completed write has reached: what a flush started now covers. */
  writtenThrough(): number;
  /**
   * Makes everything written before the call durable (fdatasync, off the event loop).
   * A store with buffered writes hands them to the OS first; a store with several files
   * syncs every file (and directory) that the covered positions live in.
   */
  flush(): Promise<void>;
  /**
   * The same on the calling thread: hands buffered writes to the OS, then fdatasyncs,
   * before returning. Optional: a store without it has no `syncSync`.
   */
  flushSync?(): void;
}

/**
 * The waiters of one flush. Every caller whose position one flush covers shares its one
 * promise, so a wait costs no allocation and no bookkeeping of its own: 256 writers
 * waiting on one fdatasync make one promise, not 256 promises and 256 entries.
 */
class Cohort {
  readonly promise: Promise<number>;
  resolve!: (durable: number) => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * One fdatasync for many waiters. A waiter is resolved only by a flush that began after
 * its position was written: the frontier is captured before the flush starts, so bytes
 * an appender has reserved but not yet written are never reported durable (the fsys
 * 0.9 bug). A failed flush poisons the commit: its waiters get the error, and every
 * later call gets KEEL_POISONED, because a retried fsync can succeed after the kernel
 * dropped the dirty pages (PostgreSQL's fsyncgate).
 *
 * Waiters are kept as two cohorts, not one by one: those the flush in flight covers
 * (their positions are at or below the frontier it captured) and those the next flush
 * will cover (it captures its frontier after they called, so at or above their
 * positions). A flush that completes resolves its cohort with one call; the next flush
 * starts at once when the next cohort has waiters.
 */
export class GroupCommit {
  readonly #target: GroupCommitTarget;
  #durable: number;
  /** The waiters the flush in flight covers (made by the first of them), and the frontier it captured (-1: none in flight). */
  #flushing: Cohort | null = null;
  #flushingFrontier = -1;
  /** The waiters whose positions are beyond the flush in flight (or with none in flight). */
  #next: Cohort | null = null;
  /** A resolved promise of the durable frontier, handed to every wait already covered. */
  #covered: Promise<number>;
  #coveredThrough: number;
  #inFlight: Promise<void> | null = null;
  #again = false;
  #poison: KeelError | null = null;
  #flushes = 0;
  #requested = false;

  readonly #onFailure: ((error: unknown) => void) | undefined;

  /** `onFailure` lets the store poison itself when a flush fails. */
  constructor(target: GroupCommitTarget, durableThrough = 0, onFailure?: (error: unknown) => void) {
    this.#target = target;
    this.#durable = durableThrough;
    this.#onFailure = onFailure;
    this.#covered = Promise.resolve(durableThrough);
    this.#coveredThrough = durableThrough;
  }

  /** Every position below this is durable. */
  get durableThrough(): number {
    return this.#durable;
  }

  /** How many flushes ran: N waiters sharing a flush cost one. */
  get flushCount(): number {
    return this.#flushes;
  }

  get poisoned(): KeelError | null {
    return this.#poison;
  }

  get busy(): boolean {
    return this.#inFlight !== null;
  }

  /** Resolves with the durable frontier once it reaches `position`. */
  syncThrough(position: number): Promise<number> {
    if (this.#poison) return Promise.reject(this.#poisonedError());
    if (position <= this.#durable) return this.#coveredPromise();
    const written = this.#target.writtenThrough();
    if (position > written) {
      return Promise.reject(new KeelError('KEEL_BAD_ARGUMENT', `cannot sync through ${position}: only ${written} has been written`));
    }
    if (position <= this.#flushingFrontier) return (this.#flushing ??= new Cohort()).promise;
    if (this.#next === null) {
      this.#next = new Cohort();
      this.#schedule();
    }
    return this.#next.promise;
  }

  /** Makes everything written so far durable. */
  sync(): Promise<number> {
    return this.syncThrough(this.#target.writtenThrough());
  }

  /**
   * `syncThrough` on the calling thread (Node's xSync convention): one flush of its own,
   * never waiting for one in flight. Its frontier is captured before its fdatasync, like
   * the async path's, so it claims only bytes written before that fdatasync began; a
   * flush in flight still settles only its own frontier. A failure poisons the commit
   * and rejects every waiter, exactly as a failed async flush does, then is thrown.
   */
  syncThroughSync(position: number): number {
    if (this.#poison) throw this.#poisonedError();
    if (position <= this.#durable) return this.#durable;
    const written = this.#target.writtenThrough();
    if (position > written) throw new KeelError('KEEL_BAD_ARGUMENT', `cannot sync through ${position}: only ${written} has been written`);
    const flushSync = this.#target.flushSync;
    if (flushSync === undefined) throw new KeelError('KEEL_UNSUPPORTED', 'this store has no synchronous flush');
    const frontier = written;
    this.#flushes++;
    try {
      flushSync.call(this.#target);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    if (frontier > this.#durable) this.#durable = frontier;
    this.#settle();
    return this.#durable;
  }

  /** `sync` on the calling thread: everything written so far, durable before it returns. */
  syncSync(): number {
    return this.syncThroughSync(this.#target.writtenThrough());
  }

  /** Starts a flush soon if there is anything unsynced; failures poison but are not thrown here. */
  request(): void {
    this.#schedule();
  }

  /**
   * Marks the commit failed from outside (a failed write, or a failed sync seen by the
   * store's guarded Io before the flush itself): nothing after it may claim durability.
   * The waiters of the moment get the failure itself, as they would from a failed flush;
   * every later call gets KEEL_POISONED.
   */
  poison(cause: unknown): void {
    if (this.#poison) return;
    this.#poison = new KeelError('KEEL_POISONED', 'an earlier write or sync failed; reopen the store to recover what is durable', { cause });
    const flushing = this.#flushing;
    const next = this.#next;
    this.#flushing = null;
    this.#next = null;
    flushing?.reject(cause);
    next?.reject(cause);
  }

  /** Waits for the flush in flight, if any (used by close). */
  async drain(): Promise<void> {
    while (this.#inFlight) await this.#inFlight.catch(() => undefined);
  }

  #poisonedError(): KeelError {
    return this.#poison as KeelError;
  }

  /**
   * Starts a flush one microtask from now, so that every write and every waiter of the
   * current turn shares it (256 writers that each append and wait cost one fdatasync).
   */
  #schedule(): void {
    if (this.#requested) return;
    this.#requested = true;
    queueMicrotask(() => {
      this.#requested = false;
      if (this.#poison || this.#target.writtenThrough() <= this.#durable) return;
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = this.#run();
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      // The frontier first: every waiter of the next cohort called when its position was
      // written, so this flush covers all of them.
      const frontier = this.#target.writtenThrough();
      this.#flushing = this.#next;
      this.#next = null;
      this.#flushingFrontier = frontier;
      this.#flushes++;
      try {
        await this.#target.flush();
      } catch (error) {
        this.#fail(error);
        break;
      }
      // A syncSync may have failed while this flush ran (and rejected the cohort): nothing more may become durable.
      if (this.#poison) break;
      const cohort = this.#flushing;
      this.#flushing = null;
      this.#flushingFrontier = -1;
      if (frontier > this.#durable) this.#durable = frontier;
      cohort?.resolve(this.#durable);
    } while (!this.#poison && (this.#again || this.#next !== null) && this.#target.writtenThrough() > this.#durable);
    this.#flushing = null;
    this.#flushingFrontier = -1;
    this.#inFlight = null;
  }

  /** A failed flush: its waiters and the next cohort get its error, later calls KEEL_POISONED, the store is told. */
  #fail(error: unknown): void {
    this.poison(error);
    this.#onFailure?.(error);
  }

  /** After a syncSync: its frontier covers every waiter of both cohorts, whose positions were written before it began. */
  #settle(): void {
    const flushing = this.#flushing;
    const next = this.#next;
    // The flush in flight still completes, with no cohort left; later waits it would have
    // covered are covered by this frontier already.
    this.#flushing = null;
    this.#next = null;
    flushing?.resolve(this.#durable);
    next?.resolve(this.#durable);
  }

  /** A promise already resolved with the durable frontier, made once per frontier. */
  #coveredPromise(): Promise<number> {
    if (this.#coveredThrough !== this.#durable) {
      this.#covered = Promise.resolve(this.#durable);
      this.#coveredThrough = this.#durable;
    }
    return this.#covered;
  }
}
