import { crc32c } from './crc.js';
import { KeelError, badArgument } from './errors.js';
import { assertPosition, describeType } from './validate.js';

/**
 * A remote object store as keel's tiered storage uses one: immutable objects under string
 * keys, each written whole with a CRC-32C of its bytes that the store keeps beside it and
 * checks again on every whole-object read. `@keel/remote-s3` implements it on S3 and
 * S3-compatible stores.
 *
 * Every method rejects with a KeelError:
 * - `KEEL_NOT_FOUND`: no object under that key;
 * - `KEEL_CORRUPT`: what the store returned fails its checksum or length, or the object was
 *   not written through a RemoteStore (it has no checksum);
 * - `KEEL_EXISTS`: `put` found another object already under that key;
 * - `KEEL_REMOTE_UNAVAILABLE`: the store could not be reached or did not answer within the
 *   implementation's bounded timeout, after its retries; a later call may succeed, and
 *   whether a `put` or `delete` that failed this way took effect is unknown;
 * - `KEEL_REMOTE_REFUSED`: the store answered and refused (credentials, bucket, request);
 * - `KEEL_ABORTED`: the caller's signal fired; `KEEL_BAD_ARGUMENT`, `KEEL_TOO_LARGE`: see
 *   each method; `KEEL_CLOSED` after `close()`.
 */
export interface RemoteStore {
  /** Where the objects live, for messages and the `path` of errors (`s3://bucket/prefix/`). */
  readonly location: string;
  /**
   * Stores `bytes` under `key`, never replacing other contents: if the key already holds
   * exactly these bytes (a retry of a put that had landed) this succeeds; if it holds
   * anything else it rejects with `KEEL_EXISTS`. Resolves once the store has the object.
   * The store keeps no reference to `bytes` once the returned promise settles (resolved or
   * rejected): the caller may then reuse the buffer.
   */
  put(key: string, bytes: Uint8Array, options?: RemotePutOptions): Promise<RemoteObject>;
  /** The whole object, verified against its checksum and length. */
  get(key: string, options?: RemoteCallOptions): Promise<Buffer>;
  /**
   * `length` bytes from `offset`: exactly that many, or `KEEL_BAD_ARGUMENT` when the object
   * ends before `offset + length`. The range is checked to come from the object that was
   * put (its length and checksum are in the answer) but its bytes cannot be checked against
   * a whole-object checksum: callers verify them with their own framing, or read the
   * whole object.
   */
  getRange(key: string, offset: number, length: number, options?: RemoteCallOptions): Promise<Buffer>;
  /** The object's length and checksum, without its bytes. */
  head(key: string, options?: RemoteCallOptions): Promise<RemoteObject>;
  /**
   * One page of the keys that start with `prefix`, in ascending UTF-8 byte order. Pass the
   * page's `next` as `options.after` for the page after it; `next` is undefined on the last.
   */
  list(prefix: string, options?: RemoteListOptions): Promise<RemoteListPage>;
  /** Removes the object; removing a key that holds nothing succeeds. */
  delete(key: string, options?: RemoteCallOptions): Promise<void>;
  /** Releases connections; later calls reject with `KEEL_CLOSED`. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface RemoteCallOptions {
  /** Stops the call (and its retries) with `KEEL_ABORTED`, the signal's reason as `cause`. */
  signal?: AbortSignal;
}

export interface RemotePutOptions extends RemoteCallOptions {
  /**
   * The caller vouches that nothing was ever put under this key (one it has just made up,
   * with enough randomness that no one else can): the store may skip its check for an
   * existing object, a round trip per put. Never pass it when trying a put again.
   */
  unusedKey?: boolean;
  /**
   * Paces the upload (a copy quota): called with the number of bytes about to be sent,
   * before each request that sends them: once for an object put in one request, once per
   * part of a multipart upload (in part order, `bytes` the part's length; not again for a
   * retry of the same request). The request waits until the returned promise resolves; a
   * rejection fails the put with that error. `signal` aborts when the put no longer needs
   * the bytes sent (the caller's signal fired, or another part failed): the hook should
   * then settle at once. A put that sends nothing (the object is already there) does not
   * call it, and a store that sends bytes another way may not call it at all: callers
   * count what it was called for.
   */
  beforeSend?: (bytes: number, signal: AbortSignal) => Promise<void>;
}

export interface RemoteListOptions extends RemoteCallOptions {
  /** Keys per page, 1 to `REMOTE_LIST_LIMIT_MAX` (the default). */
  limit?: number;
  /** The `next` of the previous page. */
  after?: string;
}

export interface RemoteObject {
  key: string;
  /** Length in bytes. */
  bytes: number;
  /** CRC-32C (Castagnoli) of the whole object, as an unsigned 32-bit integer. */
  checksum: number;
}

export interface RemoteListEntry {
  key: string;
  bytes: number;
}

export interface RemoteListPage {
  entries: RemoteListEntry[];
  /** Pass as `after` to get the next page; undefined when this page is the last. */
  next: string | undefined;
}

/** S3's bound on a key: 1,024 bytes of UTF-8. */
export const REMOTE_KEY_BYTES_MAX = 1024;
/**
 * The largest object keel puts or reads whole: 4 GiB − 1, the most a Node 20 Buffer holds.
 * A segment-log segment (at most 2 GiB plus one record) fits.
 */
export const REMOTE_OBJECT_BYTES_MAX = 2 ** 32 - 1;
/** The most keys one `list` page holds (S3's own page bound). */
export const REMOTE_LIST_LIMIT_MAX = 1000;

/**
 * Checks a key before it reaches a store. Keys are UTF-8 of 1 to `REMOTE_KEY_BYTES_MAX`
 * bytes without control characters, and name objects, not folders: no leading `/`, no
 * empty, `.` or `..` segment (stores and tools treat those differently).
 */
export function assertRemoteKey(value: unknown, name = 'key'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw badArgument(`${name} must be a non-empty string, got ${describeType(value)}`);
  if (Buffer.byteLength(value, 'utf8') > REMOTE_KEY_BYTES_MAX) {
    throw badArgument(`${name} is longer than ${REMOTE_KEY_BYTES_MAX} bytes of UTF-8`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) throw badArgument(`${name} contains a control character`);
  if (value.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw badArgument(`${name} '${value}' has an empty, '.' or '..' segment`);
  }
}

/** Checks a `list` prefix: like a key, but it may be empty and may end with `/`. */
export function assertRemotePrefix(value: unknown, name = 'prefix'): asserts value is string {
  if (value === '') return;
  if (typeof value !== 'string') throw badArgument(`${name} must be a string, got ${describeType(value)}`);
  assertRemoteKey(value.endsWith('/') ? value.slice(0, -1) : value, name);
}

/** Checks a byte range for `getRange`: a position and a length of 1 to REMOTE_OBJECT_BYTES_MAX. */
export function assertRemoteRange(offset: unknown, length: unknown): asserts offset is number {
  assertPosition(offset, 'offset');
  assertPosition(length, 'length');
  if (length === 0) throw badArgument('length must be at least 1');
  if (length > REMOTE_OBJECT_BYTES_MAX) {
    throw new KeelError('KEEL_TOO_LARGE', `a range of ${length} bytes is more than REMOTE_OBJECT_BYTES_MAX (${REMOTE_OBJECT_BYTES_MAX})`);
  }
}

/** The checksum a RemoteStore keeps for `bytes`. */
export function remoteChecksum(bytes: Uint8Array): number {
  return crc32c(bytes) >>> 0;
}

/**
 * Throws `KEEL_CORRUPT` unless `bytes` are the object described by `expected`: its length
 * and its checksum. `path` names the object in the error.
 */
export function verifyRemoteBytes(path: string, bytes: Uint8Array, expected: { bytes: number; checksum: number }): void {
  if (bytes.length !== expected.bytes) {
    throw new KeelError('KEEL_CORRUPT', `${path}: the store returned ${bytes.length} bytes, the object has ${expected.bytes}`, { path });
  }
  const actual = remoteChecksum(bytes);
  if (actual !== expected.checksum) {
    throw new KeelError(
      'KEEL_CORRUPT',
      `${path}: CRC-32C ${hex32(actual)} of the bytes read does not match the object's ${hex32(expected.checksum)}`,
      { path },
    );
  }
}

/** Every entry under `prefix`, page by page. */
export async function* listRemoteObjects(
  store: RemoteStore,
  prefix: string,
  options: RemoteCallOptions & { limit?: number } = {},
): AsyncGenerator<RemoteListEntry, void, undefined> {
  let after: string | undefined;
  do {
    const page = await store.list(prefix, after === undefined ? options : { ...options, after });
    yield* page.entries;
    after = page.next;
  } while (after !== undefined);
}

export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
