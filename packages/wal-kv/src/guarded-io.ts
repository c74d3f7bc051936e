import { InterceptedIo, type Io, type IoMutation } from '@keel/core';

/**
 * Wraps the store's Io so that any failed mutating operation (write, sync, create,
 * rename, remove, truncate) poisons the store the moment it is seen, whichever file it
 * hit, and so that `sync()` can wait for the asynchronous ones already running: a sync
 * must never resolve after a write or sync has failed, even one a background snapshot
 * started a moment earlier.
 */
export class GuardedIo extends InterceptedIo {
  readonly #onFailure: (error: unknown) => void;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(io: Io, onFailure: (error: unknown) => void) {
    super(io);
    this.#onFailure = onFailure;
  }

  /** Resolves once the asynchronous mutating operations running now have settled. */
  settled(): Promise<unknown> {
    return this.#pending.size === 0 ? Promise.resolve() : Promise.allSettled([...this.#pending]);
  }

  /** A synchronous mutating operation: a failure poisons before it is rethrown. */
  protected override aroundSync<T>(_operation: IoMutation, _path: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      this.#onFailure(error);
      throw error;
    }
  }

  /** An asynchronous mutating operation, tracked until it settles; a failure poisons as soon as it does. */
  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    const promise = this.aroundSync(operation, path, run);
    this.#pending.add(promise);
    const settle = (): void => {
      this.#pending.delete(promise);
    };
    promise.then(settle, (error: unknown) => {
      settle();
      this.#onFailure(error);
    });
    return promise;
  }
}
