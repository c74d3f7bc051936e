import { TokenBucket } from './token-bucket.js';

/**
 * How far ahead of its average rate a copy quota may run: the bucket holds at most one
 * second's worth of bytes, so after a pause the uploader sends at most that much before
 * the rate holds it back again.
 */
export const COPY_BURST_SECONDS = 1;

/** Time as the quota sees it; tests drive it by hand. */
export interface QuotaClock {
  /** Milliseconds on a clock that never goes back. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason the moment it aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The longest timer Node runs as asked; a longer one would fire after a millisecond. */
const TIMER_MS_MAX = 2 ** 31 - 1;

export const systemClock: QuotaClock = {
  now: () => performance.now(),
  async sleep(ms, signal) {
    // A wait longer than one timer allows is several timers in a row.
    for (let left = ms; left > 0; left -= TIMER_MS_MAX) await sleepOnce(Math.min(left, TIMER_MS_MAX), signal);
  },
};

function sleepOnce(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

/**
 * The tiered log's copy quota (Kafka's `remote.log.manager.copy.max.bytes.per.second`,
 * KIP-956): asked before each request that sends a copy's bytes (CopyPacing), it holds
 * the request back until the bytes fit the rate. Unlimited (no rate, or 0) never waits. A wait is always finite, and
 * an abort (the log closing) ends it at once.
 */
export class CopyQuota {
  readonly #bucket: TokenBucket | null;
  readonly #clock: QuotaClock;

  constructor(bytesPerSecond: number | undefined, clock: QuotaClock = systemClock) {
    this.#clock = clock;
    // The bucket starts empty: a log opened with a backlog does not begin with a burst.
    this.#bucket = bytesPerSecond === undefined || bytesPerSecond === 0 ? null : new TokenBucket(bytesPerSecond, bytesPerSecond * COPY_BURST_SECONDS, clock.now());
  }

  get limited(): boolean {
    return this.#bucket !== null;
  }

  /** Resolves when `bytes` may be put; rejects with the signal's reason if it aborts first. */
  async acquire(bytes: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason;
    if (this.#bucket === null) return;
    const wait = this.#bucket.reserve(bytes, this.#clock.now());
    if (wait > 0) await this.#clock.sleep(wait, signal);
  }
}
