import type { RemoteCallOptions, RemoteListOptions, RemoteListPage, RemoteObject, RemotePutOptions, RemoteStore } from '@keel/core';

/**
 * A RemoteStore seen through a key prefix: every key is `prefix + key`, and `list`
 * answers without the prefix. One store (one bucket) holds many logs this way, each
 * under its own prefix. Closing the view leaves the store open: it belongs to the caller.
 */
export class PrefixedStore implements RemoteStore {
  readonly #store: RemoteStore;
  readonly #prefix: string;
  readonly location: string;

  constructor(store: RemoteStore, prefix: string) {
    this.#store = store;
    this.#prefix = prefix;
    this.location = `${store.location}${prefix}`;
  }

  put(key: string, bytes: Uint8Array, options?: RemotePutOptions): Promise<RemoteObject> {
    return this.#store.put(this.#prefix + key, bytes, options).then((object) => ({ ...object, key }));
  }

  get(key: string, options?: RemoteCallOptions): Promise<Buffer> {
    return this.#store.get(this.#prefix + key, options);
  }

  getRange(key: string, offset: number, length: number, options?: RemoteCallOptions): Promise<Buffer> {
    return this.#store.getRange(this.#prefix + key, offset, length, options);
  }

  head(key: string, options?: RemoteCallOptions): Promise<RemoteObject> {
    return this.#store.head(this.#prefix + key, options).then((object) => ({ ...object, key }));
  }

  async list(prefix: string, options: RemoteListOptions = {}): Promise<RemoteListPage> {
    const after = options.after === undefined ? {} : { after: this.#prefix + options.after };
    const page = await this.#store.list(this.#prefix + prefix, { ...options, ...after });
    const strip = (key: string): string => key.slice(this.#prefix.length);
    return { entries: page.entries.map((entry) => ({ ...entry, key: strip(entry.key) })), next: page.next === undefined ? undefined : strip(page.next) };
  }

  delete(key: string, options?: RemoteCallOptions): Promise<void> {
    return this.#store.delete(this.#prefix + key, options);
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}
}
