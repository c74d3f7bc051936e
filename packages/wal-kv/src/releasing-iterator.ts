import type { RangeEntry } from './range.js';
import type { Projection } from './view-walk.js';

/** Releases what an abandoned iterator still held once it is garbage collected. */
const abandoned = new FinalizationRegistry<() => void>((release) => release());

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * An iterator over a cursor's entries, each handed out through `project`. It calls
 * `release` (when given) exactly once: when it is exhausted, when it throws, when it is
 * stopped (`return()`, as `break` out of a `for…of` does), or, for one that was dropped
 * halfway, when it is garbage collected.
 */
export class ReleasingIterator<T> implements IterableIterator<T> {
  readonly #cursor: { next(): RangeEntry | null };
  readonly #project: Projection<T>;
  #release: (() => void) | null;
  #done = false;

  constructor(cursor: { next(): RangeEntry | null }, project: Projection<T>, release: (() => void) | null) {
    this.#cursor = cursor;
    this.#project = project;
    this.#release = release;
    if (release !== null) abandoned.register(this, release, this);
  }

  next(): IteratorResult<T> {
    if (this.#done) return DONE;
    try {
      const entry = this.#cursor.next();
      if (entry !== null) return { done: false, value: this.#project(entry) };
    } catch (error) {
      this.#finish();
      throw error;
    }
    this.#finish();
    return DONE;
  }

  return(): IteratorResult<T> {
    this.#finish();
    return DONE;
  }

  [Symbol.iterator](): this {
    return this;
  }

  #finish(): void {
    this.#done = true;
    const release = this.#release;
    if (release === null) return;
    this.#release = null;
    abandoned.unregister(this);
    release();
  }
}
