import { performance } from 'node:perf_hooks';

/**
 * Work per turn of the event loop before maintenance yields (writes wait at most about
 * this long). Kept well under an fdatasync of the log (a few tenths of a millisecond on
 * an SSD): a writer that awaits each sync leaves the event loop idle for about that long,
 * and slices that fit in that gap run while the disk works instead of delaying the
 * writer past the sync's end.
 */
export const SLICE_MILLISECONDS = 0.5;
/** Units of work (entries, operations) between looks at the clock. */
const CLOCK_EVERY = 256;

/**
 * Cuts background work into slices of about SLICE_MILLISECONDS with a turn of the event
 * loop between them, so that writes, reads and syncs go on while it runs. Between slices
 * it asks `stopped` whether the work must end (the store is closing or poisoned) and
 * throws what it says.
 */
export class SliceClock {
  /** What stops the work now (thrown at the next pause), or null. */
  readonly stopped: () => Error | null;
  #sliceStart = performance.now();
  #work = 0;

  constructor(stopped: () => Error | null) {
    this.stopped = stopped;
  }

  /** Counts `units` of work done; true when the slice is over and the caller should `pause()`. */
  due(units = 1): boolean {
    const before = this.#work;
    this.#work += units;
    if (Math.floor(before / CLOCK_EVERY) === Math.floor(this.#work / CLOCK_EVERY)) return false;
    return performance.now() - this.#sliceStart >= SLICE_MILLISECONDS;
  }

  /** Yields one turn of the event loop, then throws if the work must stop. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#sliceStart = performance.now();
    const stop = this.stopped();
    if (stop !== null) throw stop;
  }
}
