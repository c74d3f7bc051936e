// A RemoteStore in memory for tests that need no real object store: the same contract
// (immutable puts, verified whole reads, exact ranges, sorted paginated lists) and a hook
// that runs before every call, to fail or count it.
import {
  KeelError, remoteChecksum, verifyRemoteBytes, type RemoteListPage, type RemoteObject, type RemotePutOptions, type RemoteStore,
} from '@keel/core';

export type RemoteCall = 'put' | 'get' | 'getRange' | 'head' | 'list' | 'delete';

export class MemoryRemoteStore implements RemoteStore {
  readonly location = 'memory://bucket/';
  readonly objects = new Map<string, { bytes: Buffer; checksum: number }>();
  /** Runs before each call; throw from it to fail the call. */
  before: (call: RemoteCall, key: string) => void = () => {};
  calls = 0;
  /** A put with a `beforeSend` hook goes in parts of this many bytes, the hook asked before each (undefined: one request). */
  partBytes: number | undefined = undefined;
  /** Whether puts ask their `beforeSend` at all (a store may send without asking). */
  asksBeforeSending = true;
  /** Runs as each request's bytes go out (once per part of a paced put, once per other put). */
  sending: (key: string, bytes: number) => void = () => {};

  async put(key: string, bytes: Uint8Array, options: RemotePutOptions = {}): Promise<RemoteObject> {
    this.#enter('put', key);
    const copy = Buffer.from(bytes);
    const existing = this.objects.get(key);
    // A caller that vouches for a key it has used before is the bug this store exists to catch.
    if (existing !== undefined && options.unusedKey === true) throw new Error(`${key} was put before, yet the caller said it was unused`);
    if (existing !== undefined && !existing.bytes.equals(copy)) throw new KeelError('KEEL_EXISTS', `${key} holds other bytes`);
    if (existing === undefined) {
      const beforeSend = this.asksBeforeSending ? options.beforeSend : undefined;
      if (beforeSend === undefined) this.sending(key, copy.length);
      else await this.#sendPaced(key, copy.length, beforeSend, options.signal ?? new AbortController().signal);
    }
    const checksum = remoteChecksum(copy);
    this.objects.set(key, { bytes: copy, checksum });
    return { key, bytes: copy.length, checksum };
  }

  async get(key: string): Promise<Buffer> {
    this.#enter('get', key);
    const object = this.#object(key);
    verifyRemoteBytes(`${this.location}${key}`, object.bytes, { bytes: object.bytes.length, checksum: object.checksum });
    return Buffer.from(object.bytes);
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    this.#enter('getRange', key);
    const object = this.#object(key);
    if (offset + length > object.bytes.length) throw new KeelError('KEEL_BAD_ARGUMENT', `${key} ends before ${offset + length}`);
    return Buffer.from(object.bytes.subarray(offset, offset + length));
  }

  async head(key: string): Promise<RemoteObject> {
    this.#enter('head', key);
    const object = this.#object(key);
    return { key, bytes: object.bytes.length, checksum: object.checksum };
  }

  async list(prefix: string, options: { limit?: number; after?: string } = {}): Promise<RemoteListPage> {
    this.#enter('list', prefix);
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix) && (options.after === undefined || key > options.after)).sort();
    const page = keys.slice(0, options.limit ?? 1000);
    return { entries: page.map((key) => ({ key, bytes: this.objects.get(key)!.bytes.length })), next: page.length < keys.length ? page.at(-1) : undefined };
  }

  async delete(key: string): Promise<void> {
    this.#enter('delete', key);
    this.objects.delete(key);
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}

  /** "Sends" a paced put's `bytes` in parts, each once its `beforeSend` resolved. */
  async #sendPaced(key: string, bytes: number, beforeSend: NonNullable<RemotePutOptions['beforeSend']>, signal: AbortSignal): Promise<void> {
    const partBytes = this.partBytes ?? Math.max(1, bytes);
    for (let at = 0; at === 0 || at < bytes; at += partBytes) {
      const part = Math.min(partBytes, bytes - at);
      await beforeSend(part, signal);
      this.sending(key, part);
    }
  }

  #enter(call: RemoteCall, key: string): void {
    this.calls++;
    this.before(call, key);
  }

  #object(key: string): { bytes: Buffer; checksum: number } {
    const object = this.objects.get(key);
    if (object === undefined) throw new KeelError('KEEL_NOT_FOUND', `no object ${key}`);
    return object;
  }
}
