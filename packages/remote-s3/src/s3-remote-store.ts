import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import {
  KeelError, Lifecycle, REMOTE_KEY_BYTES_MAX, REMOTE_LIST_LIMIT_MAX, REMOTE_OBJECT_BYTES_MAX, assertBytes, assertMaxBytes, assertRemoteKey,
  assertRemotePrefix, assertRemoteRange, badArgument, describeType, isKeelError, remoteChecksum, verifyRemoteBytes,
  type RemoteCallOptions, type RemoteListOptions, type RemoteListPage, type RemoteObject, type RemotePutOptions, type RemoteStore,
} from '@keel/core';

import { askBeforeSending } from './before-send.js';
import { discardBody, readBody } from './body.js';
import { httpStatusOf } from './failures.js';
import { decodeMetadata, encodeMetadata, type ObjectDescription } from './metadata.js';
import { putMultipart, type MultipartContext } from './multipart.js';
import { normalizeOptions, type NormalizedOptions, type S3RemoteStoreOptions } from './options.js';
import { withRetries } from './retry.js';
import { ThreadpoolSha256 } from './threadpool-sha256.js';

export interface S3RemoteStoreStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Attempts that failed transiently and were tried again. */
  retries: number;
  /** Object bytes sent (parts and whole objects, retries included). */
  bytesSent: number;
  /** Object bytes received and returned to callers. */
  bytesReceived: number;
}

/**
 * keel's RemoteStore on S3 or an S3-compatible store, through the AWS SDK v3. See the
 * package README for the guarantees; in short: objects carry their length and CRC-32C as
 * metadata and are checked on every whole read, uploads carry a signed SHA-256 of their
 * body that the store checks, transient failures are retried with jittered backoff within a bounded time, and
 * every failure is a coded KeelError.
 */
export class S3RemoteStore implements RemoteStore {
  readonly location: string;
  readonly #options: NormalizedOptions;
  readonly #client: S3Client;
  readonly #lifecycle: Lifecycle;
  readonly #stats: S3RemoteStoreStats = { requests: 0, retries: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(options: S3RemoteStoreOptions) {
    this.#options = normalizeOptions(options);
    const { bucket, prefix, region, endpoint, forcePathStyle, credentials, connectTimeoutMs, requestTimeoutMs } = this.#options;
    this.location = `s3://${bucket}/${prefix}`;
    this.#lifecycle = new Lifecycle(`the remote store ${this.location}`);
    this.#client = new S3Client({
      region,
      forcePathStyle,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
      // Retries are ours (withRetries): one policy, bounded in time, for every request.
      maxAttempts: 1,
      // SigV4 hashes each upload's body, and the store refuses a body that does not match
      // the hash signed (XAmzContentSHA256Mismatch): that is the upload's integrity check,
      // so no Content-MD5 is sent (README "Upload integrity"). Large bodies are hashed on
      // the threadpool, not the JS thread.
      sha256: ThreadpoolSha256,
      // keel checks its own CRC-32C and the store the signed SHA-256; the SDK's default flexible
      // checksums use an aws-chunked trailer encoding that many S3-compatible stores refuse.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // socketTimeout: a connection silent this long (sending, waiting or receiving) fails.
      requestHandler: { connectionTimeout: connectTimeoutMs, socketTimeout: requestTimeoutMs },
    });
  }

  stats(): S3RemoteStoreStats {
    return { ...this.#stats };
  }

  async put(key: string, bytes: Uint8Array, options: RemotePutOptions = {}): Promise<RemoteObject> {
    this.#lifecycle.assertOpen();
    assertRemoteKey(key);
    assertBytes(bytes, 'bytes');
    assertMaxBytes(bytes, REMOTE_OBJECT_BYTES_MAX, 'bytes');
    const path = this.#pathOf(key);
    const description: ObjectDescription = { bytes: bytes.length, checksum: remoteChecksum(bytes) };
    const result: RemoteObject = { key, ...description };
    const existing = options.unusedKey === true ? undefined : await this.#existing(key, options.signal);
    if (existing !== undefined) {
      if (existing.bytes === description.bytes && existing.checksum === description.checksum) return result;
      throw new KeelError('KEEL_EXISTS', `${path} already holds other contents (${existing.bytes} bytes); objects are never replaced`, { path });
    }
    const metadata = encodeMetadata(description);
    if (bytes.length > this.#options.multipartThresholdBytes) {
      try {
        await putMultipart(this.#multipartContext(path), this.#objectKey(key), bytes, metadata, options.signal, options.beforeSend);
      } catch (error) {
        // A completion that landed but whose answer was lost is retried into "no such upload".
        if (isKeelError(error, 'KEEL_NOT_FOUND') && (await this.#holds(key, description, options.signal))) return result;
        throw error;
      }
      return result;
    }
    if (options.beforeSend !== undefined) await askBeforeSending(options.beforeSend, bytes.length, options.signal, options.signal, `put ${path}`);
    await this.#retry('put', path, options.signal, (signal) => {
      this.#sent(bytes.length);
      return this.#client.send(
        new PutObjectCommand({
          Bucket: this.#options.bucket, Key: this.#objectKey(key), Body: bytes, ContentLength: bytes.length,
          ContentType: 'application/octet-stream', Metadata: metadata,
        }),
        { abortSignal: signal },
      );
    });
    return result;
  }

  async get(key: string, options: RemoteCallOptions = {}): Promise<Buffer> {
    this.#lifecycle.assertOpen();
    assertRemoteKey(key);
    const path = this.#pathOf(key);
    return this.#retry('get', path, options.signal, async (signal) => {
      this.#sent(0);
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#options.bucket, Key: this.#objectKey(key) }), { abortSignal: signal });
      try {
        const expected = decodeMetadata(path, response.Metadata);
        if (response.ContentLength !== expected.bytes) {
          throw new KeelError('KEEL_CORRUPT', `${path}: the store announced ${String(response.ContentLength)} bytes, the object has ${expected.bytes}`, { path });
        }
        const bytes = await readBody(response.Body, expected.bytes, path);
        verifyRemoteBytes(path, bytes, expected);
        this.#stats.bytesReceived += bytes.length;
        return bytes;
      } finally {
        discardBody(response.Body);
      }
    });
  }

  async getRange(key: string, offset: number, length: number, options: RemoteCallOptions = {}): Promise<Buffer> {
    this.#lifecycle.assertOpen();
    assertRemoteKey(key);
    assertRemoteRange(offset, length);
    const path = this.#pathOf(key);
    const beyond = (size: number) => badArgument(`${path}: bytes ${offset} to ${offset + length} are past the object's end (${size} bytes)`);
    return this.#retry('get range of', path, options.signal, async (signal) => {
      this.#sent(0);
      const command = new GetObjectCommand({ Bucket: this.#options.bucket, Key: this.#objectKey(key), Range: `bytes=${offset}-${offset + length - 1}` });
      const response = await this.#client.send(command, { abortSignal: signal }).catch(async (error: unknown) => {
        if (httpStatusOf(error) === 416) throw beyond((await this.#describe(key, path, options.signal)).bytes);
        throw error;
      });
      try {
        const expected = decodeMetadata(path, response.Metadata);
        const range = parseContentRange(response.ContentRange) ?? { first: 0, last: expected.bytes - 1, size: expected.bytes };
        if (range.size !== expected.bytes || range.first !== offset || response.ContentLength !== range.last - range.first + 1) {
          throw new KeelError('KEEL_CORRUPT', `${path}: the store answered bytes ${String(response.ContentRange)} for ${offset}+${length} of a ${expected.bytes}-byte object`, { path });
        }
        if (offset + length > expected.bytes) throw beyond(expected.bytes);
        const bytes = await readBody(response.Body, length, path);
        // A range that is the whole object can be checked like one.
        if (offset === 0 && length === expected.bytes) verifyRemoteBytes(path, bytes, expected);
        this.#stats.bytesReceived += bytes.length;
        return bytes;
      } finally {
        discardBody(response.Body);
      }
    });
  }

  async head(key: string, options: RemoteCallOptions = {}): Promise<RemoteObject> {
    this.#lifecycle.assertOpen();
    assertRemoteKey(key);
    return { key, ...(await this.#describe(key, this.#pathOf(key), options.signal)) };
  }

  async list(prefix: string, options: RemoteListOptions = {}): Promise<RemoteListPage> {
    this.#lifecycle.assertOpen();
    assertRemotePrefix(prefix);
    const limit = options.limit ?? REMOTE_LIST_LIMIT_MAX;
    if (!Number.isInteger(limit) || limit < 1 || limit > REMOTE_LIST_LIMIT_MAX) {
      throw badArgument(`limit must be an integer from 1 to ${REMOTE_LIST_LIMIT_MAX}, got ${describeType(limit)}`);
    }
    // `after` is a key a listing returned, which may be any key some other client wrote.
    if (options.after !== undefined && (typeof options.after !== 'string' || options.after.length === 0 || Buffer.byteLength(options.after) > REMOTE_KEY_BYTES_MAX)) {
      throw badArgument(`after must be a key from a previous page, got ${describeType(options.after)}`);
    }
    const path = this.#pathOf(prefix);
    const storePrefix = this.#objectKey(prefix);
    const response = await this.#retry('list', path, options.signal, (signal) => {
      this.#sent(0);
      return this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#options.bucket, Prefix: storePrefix, MaxKeys: limit,
          ...(options.after === undefined ? {} : { StartAfter: this.#objectKey(options.after) }),
        }),
        { abortSignal: signal },
      );
    });
    const entries = (response.Contents ?? []).map((entry) => {
      if (entry.Key === undefined || !entry.Key.startsWith(storePrefix) || entry.Size === undefined) {
        throw new KeelError('KEEL_CORRUPT', `${path}: the store listed ${JSON.stringify(entry.Key)}, which is not under the prefix`, { path });
      }
      return { key: entry.Key.slice(this.#options.prefix.length), bytes: entry.Size };
    });
    if (response.IsTruncated === true && entries.length === 0) {
      throw new KeelError('KEEL_REMOTE_REFUSED', `${path}: the store said the listing goes on but returned no keys`, { path });
    }
    return { entries, next: response.IsTruncated === true ? entries.at(-1)!.key : undefined };
  }

  async delete(key: string, options: RemoteCallOptions = {}): Promise<void> {
    this.#lifecycle.assertOpen();
    assertRemoteKey(key);
    await this.#retry('delete', this.#pathOf(key), options.signal, (signal) => {
      this.#sent(0);
      return this.#client.send(new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: this.#objectKey(key) }), { abortSignal: signal });
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#client.destroy();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #objectKey(key: string): string {
    return `${this.#options.prefix}${key}`;
  }

  #pathOf(key: string): string {
    return `${this.location}${key}`;
  }

  #sent(bytes: number): void {
    this.#stats.requests += 1;
    this.#stats.bytesSent += bytes;
  }

  #retry<T>(what: string, path: string, signal: AbortSignal | undefined, attempt: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return withRetries(what, path, this.#options, signal, this.#stats, () => attempt(signal));
  }

  /** The object's description from a HEAD request, verified against its Content-Length. */
  async #describe(key: string, path: string, signal: AbortSignal | undefined): Promise<ObjectDescription> {
    const response = await this.#retry('head', path, signal, (attemptSignal) => {
      this.#sent(0);
      return this.#client.send(new HeadObjectCommand({ Bucket: this.#options.bucket, Key: this.#objectKey(key) }), { abortSignal: attemptSignal });
    });
    const description = decodeMetadata(path, response.Metadata);
    if (response.ContentLength !== description.bytes) {
      throw new KeelError('KEEL_CORRUPT', `${path}: ${String(response.ContentLength)} bytes stored, its metadata says ${description.bytes}`, { path });
    }
    return description;
  }

  /** What is already under `key`: undefined for nothing, `{ bytes: -1 }` for an object keel did not put. */
  async #existing(key: string, signal: AbortSignal | undefined): Promise<ObjectDescription | undefined> {
    try {
      return await this.#describe(key, this.#pathOf(key), signal);
    } catch (error) {
      if (isKeelError(error, 'KEEL_NOT_FOUND')) return undefined;
      if (isKeelError(error, 'KEEL_CORRUPT')) return { bytes: -1, checksum: -1 };
      throw error;
    }
  }

  async #holds(key: string, description: ObjectDescription, signal: AbortSignal | undefined): Promise<boolean> {
    const existing = await this.#existing(key, signal);
    return existing !== undefined && existing.bytes === description.bytes && existing.checksum === description.checksum;
  }

  #multipartContext(path: string): MultipartContext {
    return {
      client: this.#client,
      bucket: this.#options.bucket,
      partBytes: this.#options.partBytes,
      partConcurrency: this.#options.partConcurrency,
      retry: (what, signal, attempt) => this.#retry(what, path, signal, attempt),
      sent: (bytes) => this.#sent(bytes),
    };
  }
}

/** `bytes first-last/size` → numbers; undefined when the header is absent (a whole-object answer). */
function parseContentRange(header: string | undefined): { first: number; last: number; size: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header);
  if (match === null) return { first: -1, last: -2, size: -1 };
  return { first: Number(match[1]), last: Number(match[2]), size: Number(match[3]) };
}
