import { REMOTE_OBJECT_BYTES_MAX, assertRemotePrefix, badArgument, describeType } from '@keel/core';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** S3's smallest part (every part but the last must be at least this). */
export const PART_BYTES_MIN = 5 * 1024 * 1024;
/** S3's largest part. */
export const PART_BYTES_MAX = 5 * 1024 * 1024 * 1024;
/** S3's most parts in one upload. */
export const PARTS_MAX = 10_000;
export const PART_BYTES_DEFAULT = 8 * 1024 * 1024;
export const MULTIPART_THRESHOLD_BYTES_DEFAULT = 16 * 1024 * 1024;
export const PART_CONCURRENCY_DEFAULT = 4;
export const PART_CONCURRENCY_MAX = 64;
export const CONNECT_TIMEOUT_MS_DEFAULT = 3_000;
export const REQUEST_TIMEOUT_MS_DEFAULT = 10_000;
export const RETRY_TIMEOUT_MS_DEFAULT = 30_000;
export const ATTEMPTS_MAX_DEFAULT = 8;
export const BACKOFF_BASE_MS_DEFAULT = 100;
export const BACKOFF_MAX_MS_DEFAULT = 5_000;

// Even the smallest parts split the largest object into few enough parts for S3.
if (Math.ceil(REMOTE_OBJECT_BYTES_MAX / PART_BYTES_MIN) > PARTS_MAX) throw new Error('REMOTE_OBJECT_BYTES_MAX needs more than PARTS_MAX parts');
if (MULTIPART_THRESHOLD_BYTES_DEFAULT < PART_BYTES_DEFAULT) throw new Error('the default threshold is below the default part size');

export interface S3RemoteStoreOptions {
  /** The bucket; it must exist (keel never creates or deletes buckets). */
  bucket: string;
  /** Prepended to every key, e.g. `'orders/partition-0/'`; keys returned by `list` are without it. */
  prefix?: string;
  /** Default `'us-east-1'` (what most S3-compatible stores expect). */
  region?: string;
  /** The store's URL, for S3-compatible stores (`http://127.0.0.1:7480`); default AWS S3. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`: most S3-compatible stores need it. */
  forcePathStyle?: boolean;
  /** Static keys or a provider; default the AWS SDK's default chain (environment, profile, …). */
  credentials?: S3ClientConfig['credentials'];
  /** An attempt fails when no connection is made within this (default 3,000 ms). */
  connectTimeoutMs?: number;
  /** An attempt fails when the connection is silent for this long, in either direction (default 10,000 ms). */
  requestTimeoutMs?: number;
  /** No attempt starts later than this after the call began (default 30,000 ms). */
  retryTimeoutMs?: number;
  /** Attempts per request, the first included (default 8). */
  attemptsMax?: number;
  /** Backoff before the n-th retry: a random delay up to min(max, base × 2^(n−1)) (defaults 100 ms and 5,000 ms). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Objects larger than this are uploaded in parts (default 16 MiB, at least `partBytes`). */
  multipartThresholdBytes?: number;
  /** Bytes per part, 5 MiB to 5 GiB (default 8 MiB). */
  partBytes?: number;
  /** Parts in flight at once (default 4). */
  partConcurrency?: number;
}

export interface NormalizedOptions {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  credentials: S3ClientConfig['credentials'];
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  retryTimeoutMs: number;
  attemptsMax: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  multipartThresholdBytes: number;
  partBytes: number;
  partConcurrency: number;
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badArgument(`${name} must be an integer from ${min} to ${max}, got ${describeType(value)}`);
  }
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw badArgument(`${name} must be a non-empty string, got ${describeType(value)}`);
  return value;
}

export function normalizeOptions(options: S3RemoteStoreOptions): NormalizedOptions {
  if (typeof options !== 'object' || options === null) throw badArgument(`options must be an object, got ${describeType(options)}`);
  const bucket = optionalString(options.bucket, 'bucket');
  if (bucket === undefined) throw badArgument('bucket is required');
  const prefix = options.prefix ?? '';
  assertRemotePrefix(prefix, 'prefix');
  const endpoint = optionalString(options.endpoint, 'endpoint');
  if (endpoint !== undefined && !URL.canParse(endpoint)) throw badArgument(`endpoint '${endpoint}' is not a URL`);
  const partBytes = integer(options.partBytes, 'partBytes', PART_BYTES_MIN, PART_BYTES_MAX, PART_BYTES_DEFAULT);
  const backoffBaseMs = integer(options.backoffBaseMs, 'backoffBaseMs', 1, 60_000, BACKOFF_BASE_MS_DEFAULT);
  return {
    bucket,
    prefix,
    region: optionalString(options.region, 'region') ?? 'us-east-1',
    endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    connectTimeoutMs: integer(options.connectTimeoutMs, 'connectTimeoutMs', 1, 600_000, CONNECT_TIMEOUT_MS_DEFAULT),
    requestTimeoutMs: integer(options.requestTimeoutMs, 'requestTimeoutMs', 1, 3_600_000, REQUEST_TIMEOUT_MS_DEFAULT),
    retryTimeoutMs: integer(options.retryTimeoutMs, 'retryTimeoutMs', 0, 3_600_000, RETRY_TIMEOUT_MS_DEFAULT),
    attemptsMax: integer(options.attemptsMax, 'attemptsMax', 1, 100, ATTEMPTS_MAX_DEFAULT),
    backoffBaseMs,
    backoffMaxMs: integer(options.backoffMaxMs, 'backoffMaxMs', backoffBaseMs, 600_000, Math.max(backoffBaseMs, BACKOFF_MAX_MS_DEFAULT)),
    multipartThresholdBytes: integer(
      options.multipartThresholdBytes, 'multipartThresholdBytes', partBytes, REMOTE_OBJECT_BYTES_MAX,
      Math.max(partBytes, MULTIPART_THRESHOLD_BYTES_DEFAULT),
    ),
    partBytes,
    partConcurrency: integer(options.partConcurrency, 'partConcurrency', 1, PART_CONCURRENCY_MAX, PART_CONCURRENCY_DEFAULT),
  };
}
