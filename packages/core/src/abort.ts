import { KeelError } from './errors.js';

/**
 * How every keel stream and iterator stops when its AbortSignal fires: with a KeelError
 * coded KEEL_ABORTED whose `cause` is the signal's reason (abstract-level users rely on a
 * coded abort error, and a silent end would look like the end of the data).
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new KeelError('KEEL_ABORTED', 'the stream was aborted through its AbortSignal', { cause: signal.reason });
  }
}
