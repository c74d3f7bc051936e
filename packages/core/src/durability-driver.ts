import type { DurabilityPolicy } from './durability.js';
import type { GroupCommit } from './group-commit.js';

/**
 * Applies a DurabilityPolicy to a GroupCommit: the store calls `afterWrite` after each
 * write it acknowledges, and the driver decides when a flush starts.
 */
export class DurabilityDriver {
  readonly #policy: DurabilityPolicy;
  readonly #commit: GroupCommit;
  #writesSinceFlush = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(policy: DurabilityPolicy, commit: GroupCommit) {
    this.#policy = policy;
    this.#commit = commit;
    if (policy.mode === 'interval') {
      this.#timer = setInterval(() => commit.request(), policy.ms);
      // A store left open must not keep the process alive on its own.
      this.#timer.unref();
    }
  }

  get policy(): DurabilityPolicy {
    return this.#policy;
  }

  afterWrite(writes = 1): void {
    switch (this.#policy.mode) {
      case 'every-write':
        this.#commit.request();
        return;
      case 'every-n':
        this.#writesSinceFlush += writes;
        if (this.#writesSinceFlush >= this.#policy.n) {
          this.#writesSinceFlush = 0;
          this.#commit.request();
        }
        return;
      default:
        return;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
