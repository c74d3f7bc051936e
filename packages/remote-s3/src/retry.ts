import { KeelError } from '@keel/core';

import { describeFailure, verdictOf } from './failures.js';

export interface RetryPolicy {
  attemptsMax: number;
  retryTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface RetryCounters {
  retries: number;
}

export function abortedError(signal: AbortSignal, what: string): KeelError {
  return new KeelError('KEEL_ABORTED', `${what} was aborted through its AbortSignal`, { cause: signal.reason });
}

/** Waits `ms`, or rejects with KEEL_ABORTED as soon as `signal` fires. */
function backoff(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, what));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!, what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** "Full jitter": a random delay up to the exponential bound, so clients that failed together do not retry together. */
export function backoffDelayMs(policy: RetryPolicy, retry: number): number {
  const bound = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(Math.random() * (bound + 1));
}

/**
 * Runs `attempt` until it succeeds, fails with a verdict (a KeelError, see `verdictOf`), or
 * transient failures have used up the attempts or the retry time; then it rejects with
 * KEEL_REMOTE_UNAVAILABLE, the last failure as its cause. `signal` stops it with
 * KEEL_ABORTED between attempts and (through `attempt`'s own use of it) during one.
 */
export async function withRetries<T>(
  what: string,
  path: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  counters: RetryCounters,
  attempt: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  for (let attempts = 1; ; attempts++) {
    if (signal?.aborted) throw abortedError(signal, `${what} ${path}`);
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `${what} ${path}`);
      const verdict = verdictOf(error, path);
      if (verdict !== undefined) throw verdict;
      const delay = backoffDelayMs(policy, attempts);
      const elapsed = Date.now() - started;
      if (attempts >= policy.attemptsMax || elapsed + delay > policy.retryTimeoutMs) {
        throw new KeelError(
          'KEEL_REMOTE_UNAVAILABLE',
          `${what} ${path}: no answer from the store after ${attempts} attempt(s) in ${elapsed} ms (${describeFailure(error)})`,
          { path, cause: error },
        );
      }
      counters.retries += 1;
      await backoff(delay, signal, `${what} ${path}`);
    }
  }
}
