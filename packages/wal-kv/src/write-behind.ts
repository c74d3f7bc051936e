import type { IoFile } from '@keel/core';
import { COMPACTION_SYNC_EVERY_BYTES, COMPACTION_WRITES_IN_FLIGHT_MAX } from './limits.js';

/**
 * The threadpool writes of a file that background work fills (a compaction's new log),
 * kept from piling up: at most COMPACTION_WRITES_IN_FLIGHT_MAX at a time, and a datasync
 * started every COMPACTION_SYNC_EVERY_BYTES, so that the page cache holds at most about
 * twice that of the file unwritten. Left alone, the kernel gathers hundreds of megabytes
 * of it and writes them back in one burst (at the latest in the datasync before the file
 * is installed); the store's own appends to its log, on the event loop, then wait in the
 * file system behind that burst, for tenths of a second. The syncs only make durable
 * sooner what is synced anyway before the file is used.
 *
 * A failed write or sync is kept, not thrown, until `settled`: the caller gives up then.
 */
export class WriteBehind {
  readonly #file: IoFile;
  /** Every write and sync since the last `settled`, for the failures among them. */
  #started: Promise<void>[] = [];
  /** The writes not done yet. */
  readonly #inFlight = new Set<Promise<void>>();
  #syncing: Promise<void> | null = null;
  /** Bytes written (or being written) since the last sync began. */
  #unsynced = 0;

  constructor(file: IoFile) {
    this.#file = file;
  }

  /** Writes `data` at `at` on the threadpool; `written` runs once it succeeded (the caller may then reuse `data`). */
  write(data: Uint8Array, at: number, written: () => void): void {
    const write = this.#file.write(data, at).then(written);
    this.#track(write);
    this.#inFlight.add(write);
    void settle(write).then(() => this.#inFlight.delete(write));
    this.#unsynced += data.length;
  }

  /** At a pause of the work: starts a sync when one is due, and waits while too much is in flight or unsynced. */
  async throttle(): Promise<void> {
    if (this.#unsynced >= COMPACTION_SYNC_EVERY_BYTES && this.#syncing === null) {
      const sync = this.#file.datasync();
      this.#syncing = sync;
      this.#track(sync.finally(() => void (this.#syncing = null)));
      this.#unsynced = 0;
    }
    if (this.#syncing !== null && this.#unsynced >= COMPACTION_SYNC_EVERY_BYTES) await settle(this.#syncing);
    while (this.#inFlight.size > COMPACTION_WRITES_IN_FLIGHT_MAX) await Promise.race([...this.#inFlight].map(settle));
  }

  /** Waits for every write and sync started; then throws the first failure, if any. */
  async settled(): Promise<void> {
    const results = await Promise.allSettled(this.#started);
    this.#started = [];
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Waits for every write and sync started, failed or not (before the file is closed). */
  async quiesce(): Promise<void> {
    await Promise.allSettled(this.#started);
  }

  #track(operation: Promise<void>): void {
    // Seen by `settled` or `quiesce`; until then a failure is not an unhandled rejection.
    operation.catch(() => undefined);
    this.#started.push(operation);
  }
}

function settle(operation: Promise<void>): Promise<void> {
  return operation.then(
    () => undefined,
    () => undefined,
  );
}
