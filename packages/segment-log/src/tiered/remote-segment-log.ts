import {
  KeelError, assertPosition, assertRemotePrefix, badArgument, describeType, listRemoteObjects, throwIfAborted, type RemoteStore,
} from '@keel/core';

import { READ_BYTES_DEFAULT } from '../reader.js';
import type { LogRecord } from '../record.js';
import { decodeOffloadEvent, type CopyFinishedEvent } from './offload-event.js';
import { PrefixedStore } from './prefixed-store.js';
import { contiguousCopies, copyHolding, firstCopyReaching } from './remote-range.js';
import { parseManifestKey } from './remote-keys.js';
import { REMOTE_CACHE_BYTES_DEFAULT, RemoteSegmentReader, type FinishedCopy } from './remote-segment-reader.js';
import { assertRemoteStore } from './tiered-options.js';

export interface RemoteSegmentLogOptions {
  /** The store the writer offloads to. It is not closed with the log. */
  remote: RemoteStore;
  /** The writer's `tiered.prefix`. */
  prefix: string;
  /** Memory for fetched blocks and indexes (default 64 MiB). */
  cacheBytes?: number;
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw badArgument(`${name} must be a positive integer, got ${describeType(value)}`);
  return value;
}

/** A manifest is one copy-finished event: this bounds what is read for one. */
const MANIFEST_BYTES_MAX = 4096;

/**
 * The offloaded part of a tiered segment log, read from the object store alone: no local
 * directory, no lock, nothing written. Open lists the copies' manifests (each written
 * after the copy's objects, and deleted before them) and serves `[startOffset,
 * nextOffset)` from the copies that run without a gap up to the newest one. It is a
 * snapshot: segments offloaded later appear after `refresh()`, and a segment the writer's
 * retention deletes meanwhile fails its reads with KEEL_NOT_FOUND.
 */
export class RemoteSegmentLog {
  readonly #store: PrefixedStore;
  readonly #reader: RemoteSegmentReader;
  #copies: FinishedCopy[] = [];
  #closed = false;

  private constructor(store: PrefixedStore, cacheBytes: number) {
    this.#store = store;
    this.#reader = new RemoteSegmentReader(store, cacheBytes);
  }

  static async open(options: RemoteSegmentLogOptions): Promise<RemoteSegmentLog> {
    if (options === null || typeof options !== 'object') throw badArgument(`options must be an object like { remote, prefix }, got ${describeType(options)}`);
    assertRemoteStore(options.remote, 'remote');
    assertRemotePrefix(options.prefix, 'prefix');
    const cacheBytes = options.cacheBytes ?? REMOTE_CACHE_BYTES_DEFAULT;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) throw badArgument(`cacheBytes must be a non-negative safe integer, got ${describeType(cacheBytes)}`);
    const log = new RemoteSegmentLog(new PrefixedStore(options.remote, options.prefix), cacheBytes);
    await log.refresh();
    return log;
  }

  /** The first offset held remotely (equal to `nextOffset` when nothing is). */
  get startOffset(): number {
    return this.#copies[0]?.baseOffset ?? 0;
  }

  /** The offset after the newest offloaded record. */
  get nextOffset(): number {
    return this.#copies.at(-1)?.nextOffset ?? 0;
  }

  /** Lists the store again: the segments offloaded since, and without those deleted since. */
  async refresh(signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    const byBase = new Map<number, FinishedCopy>();
    for await (const entry of listRemoteObjects(this.#store, '', { signal })) {
      const named = parseManifestKey(entry.key);
      if (named === null || byBase.has(named.baseOffset)) continue;
      const path = `${this.#store.location}${entry.key}`;
      if (entry.bytes > MANIFEST_BYTES_MAX) throw new KeelError('KEEL_CORRUPT', `${path} is ${entry.bytes} bytes, not a manifest`, { path });
      const manifest = await this.#manifest(entry.key, path, signal);
      if (manifest === null) continue;
      if (manifest.type !== 'copy-finished' || manifest.baseOffset !== named.baseOffset || manifest.copyId !== named.copyId) {
        throw new KeelError('KEEL_CORRUPT', `${path} does not describe the copy its key names`, { path });
      }
      byBase.set(manifest.baseOffset, manifest);
    }
    const sorted = [...byBase.values()].sort((a, b) => a.baseOffset - b.baseOffset);
    this.#copies = contiguousCopies(sorted, sorted.at(-1)?.nextOffset ?? 0);
  }

  /** A manifest, checked; null when it was deleted between the listing and the read (retention). */
  async #manifest(key: string, path: string, signal: AbortSignal | undefined): Promise<CopyFinishedEvent | null> {
    let bytes: Buffer;
    try {
      bytes = await this.#store.get(key, { signal });
    } catch (error) {
      if (error instanceof KeelError && error.code === 'KEEL_NOT_FOUND') return null;
      throw error;
    }
    return decodeOffloadEvent(bytes, { path, offset: 0 }) as CopyFinishedEvent;
  }

  /** Records from `offset` to the end of the segment holding it at most, every frame checked. */
  async read(offset: number, options: { maxBytes?: number; maxRecords?: number; signal?: AbortSignal } = {}): Promise<LogRecord[]> {
    this.#assertOpen();
    assertPosition(offset, 'offset');
    if (offset === this.nextOffset) return [];
    const copy = copyHolding(this.#copies, offset);
    if (copy === undefined) throw new KeelError('KEEL_NOT_FOUND', `offset ${offset} is outside the offloaded log [${this.startOffset}, ${this.nextOffset}]`);
    if (options === null || typeof options !== 'object') throw badArgument(`read options must be an object, got ${describeType(options)}`);
    const limits = { maxBytes: positive(options.maxBytes, 'maxBytes', READ_BYTES_DEFAULT), maxRecords: positive(options.maxRecords, 'maxRecords', Number.MAX_SAFE_INTEGER) };
    return this.#reader.read(copy, offset, limits, options.signal);
  }

  /** Every offloaded record from `from` (default: the start) to `nextOffset` as of the call. */
  async *stream(options: { from?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogRecord, void, undefined> {
    let next = options.from ?? this.startOffset;
    const end = this.nextOffset;
    while (next < end) {
      throwIfAborted(options.signal);
      for (const record of await this.read(next, { signal: options.signal })) {
        yield record;
        next = record.offset + 1;
      }
    }
  }

  /** The first offloaded offset whose timestamp is >= `timestamp`, or undefined. */
  async offsetForTimestamp(timestamp: number, signal?: AbortSignal): Promise<number | undefined> {
    this.#assertOpen();
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) throw badArgument(`timestamp must be a safe integer, got ${describeType(timestamp)}`);
    const copy = firstCopyReaching(this.#copies, timestamp);
    return copy === undefined ? undefined : this.#reader.offsetForTimestamp(copy, timestamp, signal);
  }

  stats(): { segments: number; startOffset: number; nextOffset: number; fetches: number; fetchedBytes: number; cacheBytes: number } {
    const reader = this.#reader.stats();
    return { segments: this.#copies.length, startOffset: this.startOffset, nextOffset: this.nextOffset, fetches: reader.fetches, fetchedBytes: reader.fetchedBytes, cacheBytes: reader.cacheBytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reader.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeelError('KEEL_CLOSED', 'the remote segment log was used after close()');
  }
}
