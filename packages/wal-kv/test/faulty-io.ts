import { InterceptedIo, ioError, nativeIo, type IoMutation } from '@keel/core';

/**
 * An Io that fails the Nth mutating operation (write, sync, rename, remove, create,
 * truncate) and every one after it with EIO, as a disk that died at that point would.
 * `failAt: Infinity` never fails and only counts, so a test can learn how many mutating
 * operations an action performs. Creating directories is neither counted nor failed.
 */
export class FaultyIo extends InterceptedIo {
  mutations = 0;
  failAt: number;
  /** Only operations this accepts are counted and failed. */
  readonly #counts: (operation: IoMutation, path: string) => boolean;
  /** Called at the moment an operation fails, before the caller hears of it. */
  onFailure: (() => void) | null = null;

  constructor(failAt = Infinity, counts: (operation: IoMutation, path: string) => boolean = () => true) {
    super(nativeIo);
    this.failAt = failAt;
    this.#counts = counts;
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    this.#mutate(operation, path);
    return run();
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    this.#mutate(operation, path);
    return run();
  }

  #mutate(operation: IoMutation, path: string): void {
    if (operation === 'mkdir' || !this.#counts(operation, path)) return;
    this.mutations++;
    if (this.mutations < this.failAt) return;
    this.onFailure?.();
    throw ioError('EIO', operation, path);
  }
}
