/** Releases what an abandoned iterator still held once it is garbage collected. */
const abandoned = new FinalizationRegistry<() => void>((release) => release());

/**
 * An iterator that calls `release` exactly once: when it is exhausted, when it throws,
 * when it is stopped (`return()`, as `break` out of a `for…of` does), or, for one that was
 * dropped halfway, when it is garbage collected.
 */
export class ReleasingIterator<T> implements IterableIterator<T> {
  readonly #inner: Iterator<T>;
  #release: (() => void) | null;

  constructor(inner: Iterator<T>, release: () => void) {
    this.#inner = inner;
    this.#release = release;
    abandoned.register(this, release, this);
  }

  next(): IteratorResult<T> {
    if (this.#release === null) return { done: true, value: undefined };
    try {
      const result = this.#inner.next();
      if (result.done === true) this.#finish();
      return result;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  return(value?: unknown): IteratorResult<T> {
    try {
      this.#inner.return?.();
    } finally {
      this.#finish();
    }
    return { done: true, value };
  }

  [Symbol.iterator](): this {
    return this;
  }

  #finish(): void {
    const release = this.#release;
    if (release === null) return;
    this.#release = null;
    abandoned.unregister(this);
    release();
  }
}
