import { isKeelError } from './errors.js';
import { InterceptedIo, type IoMutation } from './intercepted-io.js';
import type { Io } from './io.js';

/**
 * The Io every store holds: any failed mutating operation (write, sync, create, rename,
 * remove, truncate) poisons the store the moment it is seen, whichever file it hit, so
 * poisoning is decided in one place instead of around every call. It also tracks the
 * asynchronous mutations in flight, so that `sync()` can wait for them: a sync must never
 * resolve after a write or sync has failed, even one a background task started a moment
 * earlier.
 *
 * Failures before `arm` (while the store is still being opened) only propagate: the open
 * fails as a whole and there is no store to poison yet.
 */
export class GuardedIo extends InterceptedIo {
  #onFailure: ((error: unknown) => void) | null = null;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(io: Io) {
    // Guarding twice would report every failure twice and track every promise twice.
    super(io instanceof GuardedIo ? io.inner : io);
  }

  /** From now on every failed mutation calls `onFailure` before it is rethrown. */
  arm(onFailure: (error: unknown) => void): void {
    this.#onFailure = onFailure;
  }

  /** Every failed mutation poisons alike, so a write and its sync may pass as one call. */
  protected override get joinsWriteAndDatasync(): boolean {
    return true;
  }

  /** Whether an asynchronous mutating operation is running now (`settled()` would wait for it). */
  get mutating(): boolean {
    return this.#pending.size > 0;
  }

  /** Resolves once the asynchronous mutating operations running now have settled. */
  settled(): Promise<unknown> {
    return this.#pending.size === 0 ? Promise.resolve() : Promise.allSettled([...this.#pending]);
  }

  protected override aroundSync<T>(operation: IoMutation, _path: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      this.#failed(operation, error);
      throw error;
    }
  }

  #failed(operation: IoMutation, error: unknown): void {
    // Removing a file that is not there changed nothing on disk: a caller may expect it.
    if (!(operation === 'remove' && isKeelError(error, 'KEEL_NOT_FOUND'))) this.#onFailure?.(error);
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    const promise = this.aroundSync(operation, path, run);
    this.#pending.add(promise);
    const settle = (): void => {
      this.#pending.delete(promise);
    };
    promise.then(settle, (error: unknown) => {
      settle();
      this.#failed(operation, error);
    });
    return promise;
  }
}
