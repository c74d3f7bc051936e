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

interface Waiter {
  position: number;
  resolve(durable: number): void;
  reject(error: unknown): void;
}

/**
 * One fdatasync for many waiters. A waiter is resolved only by a flush that began after
 * its position was written: the frontier is captured before the flush starts, so bytes
 * an appender has reserved but not yet written are never reported durable (the fsys
 * 0.9 bug). A failed flush poisons the commit: its waiters get the error, and every
 * later call gets KEEL_POISONED, because a retried fsync can succeed after the kernel
 * dropped the dirty pages (PostgreSQL's fsyncgate).
 */
export class GroupCommit {
  readonly #target: GroupCommitTarget;
  #durable: number;
  #waiters: Waiter[] = [];
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
    if (position <= this.#durable) return Promise.resolve(this.#durable);
    const written = this.#target.writtenThrough();
    if (position > written) {
      return Promise.reject(new KeelError('KEEL_BAD_ARGUMENT', `cannot sync through ${position}: only ${written} has been written`));
    }
    return new Promise<number>((resolve, reject) => {
      this.#waiters.push({ position, resolve, reject });
      this.#schedule();
    });
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
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(cause);
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
      const frontier = this.#target.writtenThrough();
      this.#flushes++;
      try {
        await this.#target.flush();
      } catch (error) {
        this.#fail(error);
        break;
      }
      // A syncSync may have failed while this flush ran: nothing more may become durable.
      if (this.#poison) break;
      if (frontier > this.#durable) this.#durable = frontier;
      this.#settle();
    } while (!this.#poison && (this.#again || this.#waiters.length > 0) && this.#target.writtenThrough() > this.#durable);
    this.#inFlight = null;
  }

  /** A failed flush: the waiters get its error, later calls KEEL_POISONED, the store is told. */
  #fail(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.poison(error);
    this.#onFailure?.(error);
    for (const waiter of waiters) waiter.reject(error);
  }

  #settle(): void {
    // A syncSync with no async waiter (one durable append at a time) allocates nothing.
    if (this.#waiters.length === 0) return;
    const pending: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.position <= this.#durable) waiter.resolve(this.#durable);
      else pending.push(waiter);
    }
    this.#waiters = pending;
  }
}
