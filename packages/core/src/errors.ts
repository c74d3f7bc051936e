/**
 * Every failure keel reports is a KeelError with a stable `code`. Tests and callers branch
 * on the code, never on the message text, so messages can improve without breaking anyone.
 */
export const KEEL_ERROR_CODES = [
  'KEEL_CORRUPT', // bytes on disk fail a check (CRC, magic, length, ordering) or a file is not ours
  'KEEL_POISONED', // an earlier write or sync failed; the handle refuses further writes
  'KEEL_LOCKED', // another handle (this process or another) holds the exclusive lock
  'KEEL_CLOSED', // the store or file was used after close()
  'KEEL_TOO_LARGE', // a record or length exceeds its documented bound
  'KEEL_BAD_ARGUMENT', // the caller passed something keel cannot accept
  'KEEL_NOT_FOUND', // a file, segment or record the caller named does not exist
  'KEEL_IO', // the operating system reported an I/O failure (see `errno`, `syscall`)
  'KEEL_UNSUPPORTED', // the operation is not available on this Io or platform
  'KEEL_ABORTED', // an iteration or stream was stopped through its AbortSignal (the reason is the cause)
  'KEEL_READ_ONLY', // a write, sync or repair was asked of a store opened with { readOnly: true }
  'KEEL_REMOTE_UNAVAILABLE', // a remote store could not be reached or did not answer in time; a later try may succeed
  'KEEL_REMOTE_REFUSED', // a remote store answered with a refusal (access denied, no such bucket, bad request); retrying will not help
  'KEEL_EXISTS', // an immutable object already exists under that name with other contents
] as const;

export type KeelErrorCode = (typeof KEEL_ERROR_CODES)[number];

export interface KeelErrorDetails {
  /** The file (or remote object, as `location` + key) the error concerns. */
  path?: string;
  /** Byte offset in `path` where the problem was found. */
  offset?: number;
  /** System error code (`EIO`, `ENOSPC`, `EBUSY`, …) when the OS reported one. */
  errno?: string;
  /** System call that failed, when the OS reported one. */
  syscall?: string;
  cause?: unknown;
}

export class KeelError extends Error {
  readonly code: KeelErrorCode;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  readonly errno: string | undefined;
  readonly syscall: string | undefined;

  constructor(code: KeelErrorCode, message: string, details: KeelErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KeelError';
    this.code = code;
    this.path = details.path;
    this.offset = details.offset;
    this.errno = details.errno;
    this.syscall = details.syscall;
  }
}

export function isKeelError(value: unknown, code?: KeelErrorCode): value is KeelError {
  return value instanceof KeelError && (code === undefined || value.code === code);
}

interface SystemErrorLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/**
 * Turns an operating-system error (from @keel/native or node) into a KeelError. Lock
 * conflicts, missing files and closed handles get their own codes because callers act on
 * them differently; everything else is KEEL_IO with the system code kept in `errno`.
 */
export function fromSystemError(error: unknown, fallbackPath?: string): KeelError {
  if (error instanceof KeelError) return error;
  const system = (error ?? {}) as SystemErrorLike;
  const errno = typeof system.code === 'string' ? system.code : 'EIO';
  const syscall = typeof system.syscall === 'string' ? system.syscall : undefined;
  const path = typeof system.path === 'string' ? system.path : fallbackPath;
  const text = typeof system.message === 'string' ? system.message : String(error);
  const details: KeelErrorDetails = { errno, cause: error };
  if (syscall !== undefined) details.syscall = syscall;
  if (path !== undefined) details.path = path;
  switch (errno) {
    case 'EBUSY':
    case 'EWOULDBLOCK':
    case 'EAGAIN':
      return new KeelError('KEEL_LOCKED', `${path ?? 'file'} is locked by another handle; close it first (${text})`, details);
    case 'ENOENT':
      return new KeelError('KEEL_NOT_FOUND', text, details);
    case 'ECLOSED':
      return new KeelError('KEEL_CLOSED', `${path ?? 'file'} was used after close`, details);
    default:
      return new KeelError('KEEL_IO', text, details);
  }
}

/** Builds the error an Io implementation throws for an OS-level failure. */
export function ioError(errno: string, syscall: string, path: string, message?: string): KeelError {
  return fromSystemError({ code: errno, syscall, path, message: message ?? `${errno}: ${syscall} '${path}' failed` });
}

export function badArgument(message: string): KeelError {
  return new KeelError('KEEL_BAD_ARGUMENT', message);
}
