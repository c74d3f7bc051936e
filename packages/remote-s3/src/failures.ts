import { KeelError } from '@keel/core';

/** S3 error names that mean "try again": the store is busy or timed out, not refusing. */
const TRANSIENT_NAMES = new Set([
  'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'Throttling', 'ThrottlingException', 'ServiceUnavailable',
  'InternalError',
]);

interface ServiceErrorLike {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as ServiceErrorLike | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function errorNameOf(error: unknown): string {
  const name = (error as ServiceErrorLike | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

export function describeFailure(error: unknown): string {
  const status = httpStatusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const parts = [status === undefined ? undefined : `HTTP ${status}`, errorNameOf(error), typeof code === 'string' ? code : undefined];
  return `${parts.filter((part) => part !== undefined && part !== 'Error').join(' ')}${parts.some(Boolean) ? ': ' : ''}${message}`;
}

/**
 * What a failed attempt means. A KeelError is a verdict already (our own checks). An HTTP
 * answer is a refusal (`KEEL_REMOTE_REFUSED`), a missing key (`KEEL_NOT_FOUND`), or, for
 * 5xx, 429 and S3's "slow down / timed out" names, transient. Anything without an HTTP
 * status (refused or reset connections, timeouts, a response cut short) is transient:
 * `undefined` is returned and the caller may retry.
 */
export function verdictOf(error: unknown, path: string): KeelError | undefined {
  if (error instanceof KeelError) return error;
  const status = httpStatusOf(error);
  if (status === undefined) return undefined;
  const name = errorNameOf(error);
  if (status >= 500 || status === 429 || TRANSIENT_NAMES.has(name)) return undefined;
  if (status === 404 && name !== 'NoSuchBucket') {
    return new KeelError('KEEL_NOT_FOUND', `${path} does not exist`, { path, cause: error });
  }
  return new KeelError('KEEL_REMOTE_REFUSED', `${path}: the store refused the request (${describeFailure(error)})`, { path, cause: error });
}
