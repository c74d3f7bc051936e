import { KeelError, type KeelErrorCode } from '@keel/core';

import type { S3RemoteStoreOptions } from '../options.js';
import type { S3RemoteStoreStats } from '../s3-remote-store.js';

/** What the worker is started with: the store's options, minus what cannot cross threads. */
export interface WorkerStoreData {
  options: S3RemoteStoreOptions;
  /** Whether the worker lowers its own thread's CPU priority (`threadPriority: 'low'`). */
  lowPriority: boolean;
}

export type StoreMethod = 'put' | 'get' | 'getRange' | 'head' | 'list' | 'delete';

/**
 * Main thread → worker. `args` are the method's arguments without the options' signal and
 * `beforeSend` (`paced` says whether a put has one); `paced` answers a `pace` message.
 */
export type Request =
  | { id: number; kind: 'call'; method: StoreMethod; args: unknown[]; hasSignal: boolean; paced: boolean }
  | { id: number; kind: 'abort'; reason: SerializedError }
  | { id: number; kind: 'close' }
  | { id: number; kind: 'paced'; pace: number; error?: SerializedError };

/** Worker → main thread: one answer per call or close, with the store's counters as of then. */
export type Response =
  | { id: number; ok: true; value: unknown; stats: S3RemoteStoreStats }
  | { id: number; ok: false; error: SerializedError; stats: S3RemoteStoreStats };

/** Worker → main thread: a paced put (call `id`) asks its `beforeSend` about `bytes`; `pace` numbers the question. */
export interface PaceRequest {
  id: number;
  kind: 'pace';
  pace: number;
  bytes: number;
}

export type WorkerMessage = Response | PaceRequest;

export interface SerializedError {
  name: string;
  message: string;
  code?: KeelErrorCode;
  path?: string;
  offset?: number;
  errno?: string;
  syscall?: string;
  cause?: SerializedError;
}

const CAUSE_DEPTH_MAX = 4;

/** Errors cross as plain data, so that a KeelError arrives as a KeelError with its code. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const serialized: SerializedError = { name: error.name, message: error.message };
  if (error instanceof KeelError) {
    serialized.code = error.code;
    if (error.path !== undefined) serialized.path = error.path;
    if (error.offset !== undefined) serialized.offset = error.offset;
    if (error.errno !== undefined) serialized.errno = error.errno;
    if (error.syscall !== undefined) serialized.syscall = error.syscall;
  }
  if (error.cause !== undefined && depth < CAUSE_DEPTH_MAX) serialized.cause = serializeError(error.cause, depth + 1);
  return serialized;
}

export function deserializeError(serialized: SerializedError): Error {
  const cause = serialized.cause === undefined ? undefined : deserializeError(serialized.cause);
  if (serialized.code !== undefined) {
    return new KeelError(serialized.code, serialized.message, {
      path: serialized.path, offset: serialized.offset, errno: serialized.errno, syscall: serialized.syscall, cause,
    });
  }
  const error = new Error(serialized.message, cause === undefined ? undefined : { cause });
  error.name = serialized.name;
  return error;
}
