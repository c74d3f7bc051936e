import { KeelError } from './errors.js';

/**
 * The open/closed/poisoned state every store shares. A store calls `assertOpen` at the
 * top of every public method and `assertWritable` before every write; after a failed
 * write or sync it calls `poison`, and from then on writes are refused with
 * KEEL_POISONED (reads of what is on disk stay allowed).
 */
export class Lifecycle {
  readonly #what: string;
  #closed = false;
  #closing: Promise<void> | null = null;
  #poison: KeelError | null = null;

  constructor(what: string) {
    this.#what = what;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get poisoned(): KeelError | null {
    return this.#poison;
  }

  assertOpen(): void {
    if (this.#closed) throw new KeelError('KEEL_CLOSED', `${this.#what} is closed; open it again to use it`);
  }

  assertWritable(): void {
    this.assertOpen();
    if (this.#poison) throw this.#poison;
  }

  poison(cause: unknown): KeelError {
    if (!this.#poison) {
      this.#poison = new KeelError(
        'KEEL_POISONED',
        `${this.#what} refuses writes: an earlier write or sync failed (${describe(cause)}); close and reopen it to recover what is durable`,
        { cause },
      );
    }
    return this.#poison;
  }

  /**
   * Runs `closeOnce` the first time; later calls wait for the same close. A store that was
   * poisoned still closes its files and releases its lock, but every close() rejects with
   * KEEL_POISONED, so that nobody takes a successful close for "everything is durable".
   */
  close(closeOnce: () => Promise<void>): Promise<void> {
    if (!this.#closing) {
      // Refuse new calls at once; the close itself may still flush what was written.
      this.#closed = true;
      this.#closing = closeOnce().then(() => {
        if (this.#poison) throw this.#poison;
      });
    }
    return this.#closing;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return (cause as { code?: string }).code ?? cause.message;
  return String(cause);
}
