import type { Segment } from './segment.js';

/** A sealed segment's frames waiting for their turn. */
interface QueuedWrite {
  readonly segment: Segment;
  readonly write: (segment: Segment) => Promise<void>;
  /** Settles when the write ends, is dropped, or is given up after another's failure. */
  readonly done: Promise<void>;
  readonly settled: { resolve(): void; reject(error: unknown): void };
}

/**
 * The sealed index frames a flush leaves to write after it resolves (see `flushLog`): each
 * write runs in the background, one at a time in the order the flushes sealed the
 * segments, and none is forgotten. One at a time because a flush that seals many small
 * segments would otherwise put two datasyncs per segment on the threadpool at once, ahead
 * of every other file operation of the process, and because a write not started yet can
 * still be dropped: retention drops those of the segments it deletes (`drop`), so a
 * `deleteBefore` after a burst of rolls does not wait for frames of files it removes.
 *
 * A write that fails poisons the log at once (through `onFailure`, as a failed write
 * through the guarded Io does) and is kept: every later flush, close and `syncSync` throw
 * it; the writes queued behind it do not run. Each segment holds its own write from the
 * moment it is queued until it ends (`segment.indexWriting`), for retention to wait on
 * before it removes the files; a failed one stays there.
 */
export class SealedIndexWrites {
  readonly #queue: QueuedWrite[] = [];
  readonly #onFailure: (error: unknown) => void;
  readonly #onWritten: () => void;
  /** The write running now (what its segment's `indexWriting` holds); the next starts as it settles. */
  #running: Promise<void> | null = null;
  #failure: { error: unknown } | null = null;

  /** `onWritten` runs after each write that made a segment's sealed frames durable. */
  constructor(hooks: { onFailure(error: unknown): void; onWritten(): void }) {
    this.#onFailure = hooks.onFailure;
    this.#onWritten = hooks.onWritten;
  }

  /** Queues `write` for `segment`; it starts now when no other write is running. */
  start(segment: Segment, write: (segment: Segment) => Promise<void>): void {
    let settled: QueuedWrite['settled'] | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settled = { resolve, reject };
    });
    // Its failure is reported through `onFailure` and `throwIfFailed`; whoever awaits it hears too.
    done.catch(() => undefined);
    segment.indexWriting = done;
    this.#queue.push({ segment, write, done, settled: settled as QueuedWrite['settled'] });
    this.#runNext();
  }

  /** A write is queued or running. */
  get busy(): boolean {
    return this.#running !== null || this.#queue.length > 0;
  }

  /**
   * For retention, before it removes these segments' files: their writes not started yet
   * are dropped (the files go, and with them any use of their frames). A write running
   * now is not: retention waits for it through `segment.indexWriting`.
   */
  drop(segments: readonly Segment[]): void {
    const deleted = new Set(segments);
    for (let index = this.#queue.length - 1; index >= 0; index--) {
      const item = this.#queue[index] as QueuedWrite;
      if (!deleted.has(item.segment)) continue;
      this.#queue.splice(index, 1);
      item.segment.indexWriting = null;
      item.settled.resolve();
    }
  }

  /**
   * Waits until no write is queued or running, then throws the first failure any write ever
   * had. Writes queued meanwhile (a flush that sealed more while this waited) are waited
   * for too: a backup plans its copy right after, and every sealed segment it names must
   * have its frames durable. They come at most one per segment a writer fills, each far
   * smaller than the segment, so the queue drains.
   */
  async settle(): Promise<void> {
    // A queued write starts as the one before it settles, so waiting on each running one
    // in turn waits for them all; a failure rejects every queued one at once.
    while (this.#running !== null) await this.#running.catch(() => undefined);
    this.throwIfFailed();
  }

  /** For a flush and `syncSync`, which do not wait: a write that already failed fails them too. */
  throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }

  #runNext(): void {
    if (this.#running !== null) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    if (this.#failure !== null) {
      // The log is poisoned: nothing more is written, and nobody is left waiting.
      for (const item of [next, ...this.#queue.splice(0)]) item.settled.reject(this.#failure.error);
      return;
    }
    this.#running = next.done;
    next.write(next.segment).then(
      () => {
        this.#running = null;
        next.segment.indexWriting = null;
        next.settled.resolve();
        this.#runNext();
        this.#onWritten();
      },
      (error: unknown) => {
        // Kept on the segment too: retention must not remove files a failed write left behind.
        this.#running = null;
        this.#failure ??= { error };
        next.settled.reject(error);
        this.#onFailure(error);
        this.#runNext();
      },
    );
  }
}
