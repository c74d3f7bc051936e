import { assertRemotePrefix, badArgument, describeType, type RemoteStore } from '@keel/core';

import { REMOTE_CACHE_BYTES_DEFAULT } from './remote-segment-reader.js';
import { UPLOAD_BACKOFF_BASE_MS_DEFAULT, UPLOAD_BACKOFF_MAX_MS_DEFAULT } from './segment-uploader.js';

export interface TieredOptions {
  /** Where sealed segments go: `@keel/remote-s3`'s S3RemoteStore, or any RemoteStore. The log does not close it. */
  remote: RemoteStore;
  /** Key prefix of this log's objects in the store (one log per prefix), e.g. `'orders/0/'`. */
  prefix: string;
  /**
   * How much stays on local disk once copied (Kafka's `local.retention.*`): sealed
   * segments with a finished remote copy are deleted locally, oldest first, while the
   * local segments are larger than `bytes` or their newest record is older than `ms`.
   * Default: keep everything locally as well.
   */
  localRetention?: { bytes?: number; ms?: number };
  /** Memory for fetched remote blocks and indexes (default 64 MiB; 0 keeps nothing between reads). */
  cacheBytes?: number;
  /** Waits between tries of an upload the store could not take: full jitter, doubling from base to max (defaults 1 s, 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told about every failed upload or delete try (they are tried again); appends are never failed by the remote. */
  onError?: (error: unknown) => void;
  /**
   * The copy quota (Kafka's `remote.log.manager.copy.max.bytes.per.second`, KIP-956): the
   * uploader puts at most this many bytes a second on average, at most one second's worth
   * ahead after a pause, so offload takes a bounded share of the machine. Default (and 0):
   * unlimited. While appends outpace it the local disk holds the backlog, past local
   * retention if need be, and nothing is lost.
   */
  copyBytesPerSecond?: number;
}

export interface NormalizedTiered {
  remote: RemoteStore;
  prefix: string;
  localRetentionBytes: number;
  localRetentionMs: number;
  cacheBytes: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  onError: ((error: unknown) => void) | undefined;
  /** 0: unlimited. */
  copyBytesPerSecond: number;
}

const REMOTE_METHODS = ['put', 'get', 'getRange', 'head', 'list', 'delete'] as const;

function count(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw badArgument(`${name} must be a non-negative safe integer, got ${describeType(value)}`);
  return value;
}

/** Bytes a second: 0 (or absent) for unlimited, else at least one, so that every wait is finite. */
function rate(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || (value !== 0 && value < 1)) {
    throw badArgument(`${name} must be 0 (unlimited) or a number of bytes a second of at least 1, got ${describeType(value)}`);
  }
  return value;
}

export function assertRemoteStore(remote: unknown, name: string): asserts remote is RemoteStore {
  if (remote === null || typeof remote !== 'object' || REMOTE_METHODS.some((method) => typeof (remote as Record<string, unknown>)[method] !== 'function')) {
    throw badArgument(`${name} must be a RemoteStore (such as @keel/remote-s3's S3RemoteStore), got ${describeType(remote)}`);
  }
}

export function normalizeTiered(value: unknown): NormalizedTiered | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') throw badArgument(`tiered must be an object like { remote, prefix, localRetention }, got ${describeType(value)}`);
  const given = value as TieredOptions;
  assertRemoteStore(given.remote, 'tiered.remote');
  assertRemotePrefix(given.prefix, 'tiered.prefix');
  const local = given.localRetention ?? {};
  if (local === null || typeof local !== 'object') throw badArgument(`tiered.localRetention must be an object like { bytes, ms }, got ${describeType(local)}`);
  if (given.onError !== undefined && typeof given.onError !== 'function') throw badArgument(`tiered.onError must be a function, got ${describeType(given.onError)}`);
  const backoffBaseMs = count(given.backoffBaseMs, 'tiered.backoffBaseMs', UPLOAD_BACKOFF_BASE_MS_DEFAULT);
  return {
    remote: given.remote,
    prefix: given.prefix,
    localRetentionBytes: count(local.bytes, 'tiered.localRetention.bytes', Number.MAX_SAFE_INTEGER),
    localRetentionMs: count(local.ms, 'tiered.localRetention.ms', Number.MAX_SAFE_INTEGER),
    cacheBytes: count(given.cacheBytes, 'tiered.cacheBytes', REMOTE_CACHE_BYTES_DEFAULT),
    backoffBaseMs,
    backoffMaxMs: Math.max(backoffBaseMs, count(given.backoffMaxMs, 'tiered.backoffMaxMs', UPLOAD_BACKOFF_MAX_MS_DEFAULT)),
    onError: given.onError,
    copyBytesPerSecond: rate(given.copyBytesPerSecond, 'tiered.copyBytesPerSecond'),
  };
}
