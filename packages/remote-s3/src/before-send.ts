import type { RemotePutOptions } from '@keel/core';

import { abortedError } from './retry.js';

export type BeforeSend = NonNullable<RemotePutOptions['beforeSend']>;

/** The signal a `beforeSend` hook is given when the caller passed none. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * Awaits a put's `beforeSend` hook (a caller's pacing) before `bytes` go. A hook that
 * rejects because the caller's signal fired fails the put with KEEL_ABORTED, as every
 * aborted call does; any other rejection is the caller's own and fails the put as it is.
 */
export async function askBeforeSending(
  beforeSend: BeforeSend,
  bytes: number,
  signal: AbortSignal | undefined,
  callerSignal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  // A put already abandoned asks nothing more: a hook may only listen for the abort to come.
  if (signal?.aborted === true) throw callerSignal?.aborted === true ? abortedError(callerSignal, what) : signal.reason;
  try {
    await beforeSend(bytes, signal ?? NEVER_ABORTED);
  } catch (error) {
    if (callerSignal?.aborted === true) throw abortedError(callerSignal, what);
    throw error;
  }
}
