import type { Segment } from './segment.js';

/**
 * The sealed index frames a flush leaves to write after it resolves (see `flushLog`): each
 * write runs in the background, and none is forgotten. A write that fails poisons the log
 * at once (through `onFailure`, as a failed write through the guarded Io does) and is kept:
 * every later flush, close and `syncSync` throw it. Each segment holds its own write while it
 * runs (`segment.indexWriting`), for retention to wait on before it removes the files.
 */
export class SealedIndexWrites {
  readonly #running = new Set<Promise<void>>();
  readonly #onFailure: (error: unknown) => void;
  readonly #onWritten: () => void;
  #failure: { error: unknown } | null = null;

  /** `onWritten` runs after each write that made a segment's sealed frames durable. */
  constructor(hooks: { onFailure(error: unknown): void; onWritten(): void }) {
    this.#onFailure = hooks.onFailure;
    this.#onWritten = hooks.onWritten;
  }

  /** Starts `write` for `segment` now; it runs until its datasyncs are done. */
  start(segment: Segment, write: (segment: Segment) => Promise<void>): void {
    const running = write(segment);
    segment.indexWriting = running;
    this.#running.add(running);
    running.then(
      () => {
        this.#running.delete(running);
        segment.indexWriting = null;
        this.#onWritten();
      },
      (error: unknown) => {
        // Kept on the segment too: retention must not remove files a failed write left behind.
        this.#running.delete(running);
        this.#failure ??= { error };
        this.#onFailure(error);
      },
    );
  }

  /** A write is running. */
  get busy(): boolean {
    return this.#running.size > 0;
  }

  /** Waits for the writes running now, then throws the first failure any write ever had. */
  async settle(): Promise<void> {
    if (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    this.throwIfFailed();
  }

  /** For a flush and `syncSync`, which do not wait: a write that already failed fails them too. */
  throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}
