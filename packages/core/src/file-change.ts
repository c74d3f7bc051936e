import type { Io } from './io.js';

/**
 * Resolves when `path` may have changed: an `io.watch` notification, or `pollMs` at the
 * latest (a notification can be missed, and some file systems send none), or when
 * `signal` aborts, or when the store calls the wake function it finds in `waiters` (on
 * close). A follower of a writer in another process waits with this between looks.
 */
export function waitForFileChange(io: Io, path: string, options: { pollMs: number; signal: AbortSignal | undefined; waiters: Set<() => void> }): Promise<void> {
  const { signal, waiters } = options;
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const watcher = io.watch?.(path, () => wake());
    const timer = setTimeout(() => wake(), options.pollMs);
    const wake = (): void => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', wake);
      waiters.delete(wake);
      resolve();
    };
    waiters.add(wake);
    signal?.addEventListener('abort', wake, { once: true });
  });
}
