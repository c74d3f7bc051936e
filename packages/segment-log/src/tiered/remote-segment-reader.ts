import { KeelError, verifyRemoteBytes, type RemoteStore } from '@keel/core';

import { SealedFileCache } from '../file-cache.js';
import { indexFromSealedFiles } from '../index-files.js';
import { offsetForTimestamp, readRecords, type ReadLimits } from '../reader.js';
import type { LogRecord } from '../record.js';
import { Segment, type SparseIndex } from '../segment.js';
import type { CopiedFiles } from './offload-event.js';
import { RemoteCache } from './remote-cache.js';
import { MissingRange, RemoteLogFile } from './remote-log-file.js';
import { remoteKey, type RemoteObjectKind } from './remote-keys.js';

/** Remote `.log` objects are fetched and cached in blocks of this many bytes. */
export const REMOTE_BLOCK_BYTES = 256 * 1024;
/** The tiered reader's cache of `.log` blocks, by default. */
export const REMOTE_CACHE_BYTES_DEFAULT = 64 * 1024 * 1024;
/**
 * Parsed indexes of remote segments are kept apart from the blocks, within this bound
 * (a segment's index is about 1/500 of its log at the default index interval), so that a
 * reader without a block cache still fetches each index once, not once per read.
 */
export const REMOTE_INDEX_CACHE_BYTES = 16 * 1024 * 1024;
/**
 * Blocks of the last read kept for the next one (see #lastRead): a read looks one chunk
 * (at most 1 MiB) past its last record, and the next read starts in that chunk.
 */
const READ_AHEAD_BLOCKS_KEPT = Math.ceil((1024 * 1024) / REMOTE_BLOCK_BYTES) + 1;
/** A timestamp lookup scans about one index interval: this much is fetched ahead. */
const SEEK_PREFETCH_BYTES = 64 * 1024;
/** Past the read's byte budget, this much more is fetched up front (the read's last chunk runs over). */
const READ_PREFETCH_SLACK_BYTES = 64 * 1024;

/** What the reader needs to know about one finished copy (from the journal or its manifest). */
export interface FinishedCopy {
  baseOffset: number;
  copyId: string;
  nextOffset: number;
  maxTimestamp: number;
  files: CopiedFiles;
  /** The indexes follow the log's bytes in the `.log` object (offload event version 2); else they are objects of their own. */
  indexesInLog?: boolean;
}

interface ParsedIndex {
  index: SparseIndex;
  minTimestamp: number;
}

/**
 * Reads records out of remote copies of sealed segments. A copy's `.index` and
 * `.timeindex` (objects of their own, or appended to its `.log` object) are fetched whole
 * and checked against the lengths and CRC-32Cs its copy-finished names; its `.log` is fetched by byte range, in blocks, and run through the
 * same code that reads local segments, so every frame's CRC-32C, length bound and offset
 * is checked before a record is returned. Blocks and indexes are kept in bounded LRU caches.
 */
export class RemoteSegmentReader {
  readonly #store: RemoteStore;
  readonly #cache: RemoteCache;
  readonly #indexes = new RemoteCache(REMOTE_INDEX_CACHE_BYTES);
  /**
   * The last blocks the last read held (at most READ_AHEAD_BLOCKS_KEPT), whatever the cache
   * keeps: a sequential reader's next read starts where the last one stopped, in bytes it
   * fetched already, and does not fetch them twice.
   */
  #lastRead: { key: string; held: Map<number, Uint8Array> } | null = null;
  readonly #files = new SealedFileCache(Number.MAX_SAFE_INTEGER);
  #fetches = 0;
  #fetchedBytes = 0;

  constructor(store: RemoteStore, cacheBytes = REMOTE_CACHE_BYTES_DEFAULT) {
    this.#store = store;
    this.#cache = new RemoteCache(cacheBytes);
  }

  stats(): { fetches: number; fetchedBytes: number; cacheBytes: number; cacheHits: number; cacheMisses: number } {
    return { fetches: this.#fetches, fetchedBytes: this.#fetchedBytes, cacheBytes: this.#cache.bytes, cacheHits: this.#cache.hits, cacheMisses: this.#cache.misses };
  }

  /** Records from `offset`, which `copy` holds, to the end of the copy at most. */
  async read(copy: FinishedCopy, offset: number, limits: ReadLimits, signal?: AbortSignal): Promise<LogRecord[]> {
    const parsed = await this.#index(copy, signal);
    const position = parsed.index.positionFor(offset - copy.baseOffset);
    const ahead = limits.maxRecords < Number.MAX_SAFE_INTEGER ? SEEK_PREFETCH_BYTES : limits.maxBytes + READ_PREFETCH_SLACK_BYTES;
    return this.#run(copy, parsed, position, ahead, signal, (segment) => readRecords([segment], offset, limits));
  }

  /** The first offset in `copy` whose timestamp is >= `timestamp` (the copy's max timestamp reaches it). */
  async offsetForTimestamp(copy: FinishedCopy, timestamp: number, signal?: AbortSignal): Promise<number | undefined> {
    const parsed = await this.#index(copy, signal);
    const position = parsed.index.positionFor(parsed.index.relativeForTimestamp(timestamp));
    return this.#run(copy, parsed, position, SEEK_PREFETCH_BYTES, signal, (segment) => offsetForTimestamp([segment], timestamp));
  }

  /**
   * Runs a synchronous segment read over the remote `.log`: the bytes from `position` are
   * fetched first, and whatever else the read turns out to need is fetched and the read
   * run again. Each round fetches bytes the read has not had, so it ends. The blocks a
   * read fetched stay with it until it ends, whatever the cache evicts meanwhile.
   */
  async #run<T>(copy: FinishedCopy, parsed: ParsedIndex, position: number, ahead: number, signal: AbortSignal | undefined, read: (segment: Segment) => T): Promise<T> {
    const key = remoteKey(copy.baseOffset, copy.copyId, 'log');
    const held = this.#lastRead?.key === key ? new Map(this.#lastRead.held) : new Map<number, Uint8Array>();
    const segment = this.#segment(copy, parsed, (index) => held.get(index) ?? this.#cache.get<Uint8Array>(`${key}#${index}`));
    try {
      await this.#fetch(copy, held, position, Math.min(ahead, segment.size - position), signal);
      for (;;) {
        try {
          return read(segment);
        } catch (error) {
          if (!(error instanceof MissingRange)) throw error;
          await this.#fetch(copy, held, error.position, error.length, signal);
        }
      }
    } finally {
      segment.closeFiles();
      const kept = [...held.keys()].sort((a, b) => b - a).slice(0, READ_AHEAD_BLOCKS_KEPT);
      this.#lastRead = { key, held: new Map(kept.map((index) => [index, held.get(index) as Uint8Array])) };
    }
  }

  /** Fetches the blocks covering [position, position + length) that neither this read nor the cache holds, in one range request. */
  async #fetch(copy: FinishedCopy, held: Map<number, Uint8Array>, position: number, length: number, signal: AbortSignal | undefined): Promise<void> {
    if (length <= 0) return;
    const key = remoteKey(copy.baseOffset, copy.copyId, 'log');
    const present = (index: number): boolean => {
      if (held.has(index)) return true;
      const block = this.#cache.get<Uint8Array>(`${key}#${index}`);
      if (block !== undefined) held.set(index, block);
      return block !== undefined;
    };
    let from = Math.floor(position / REMOTE_BLOCK_BYTES);
    let to = Math.floor((position + length - 1) / REMOTE_BLOCK_BYTES);
    while (from <= to && present(from)) from++;
    while (to >= from && present(to)) to--;
    if (from > to) return;
    const start = from * REMOTE_BLOCK_BYTES;
    const end = Math.min(copy.files.log.bytes, (to + 1) * REMOTE_BLOCK_BYTES);
    const bytes = await this.#store.getRange(key, start, end - start, { signal });
    this.#fetches++;
    this.#fetchedBytes += bytes.length;
    for (let index = from; index <= to; index++) {
      const block = bytes.subarray((index - from) * REMOTE_BLOCK_BYTES, Math.min(bytes.length, (index - from + 1) * REMOTE_BLOCK_BYTES));
      held.set(index, block);
      this.#cache.set(`${key}#${index}`, block, block.length);
    }
  }

  /** A sealed Segment over the remote copy: its checked indexes, and a `.log` that reads fetched blocks. */
  #segment(copy: FinishedCopy, parsed: ParsedIndex, block: (index: number) => Uint8Array | undefined): Segment {
    const where = (kind: RemoteObjectKind): string => `${this.#store.location}${remoteKey(copy.baseOffset, copy.copyId, kind)}`;
    const file = new RemoteLogFile(where('log'), copy.files.log.bytes, REMOTE_BLOCK_BYTES, block);
    const segment = new Segment(copy.baseOffset, { log: where('log'), offsetIndex: where('index'), timeIndex: where('timeindex') }, () => file, this.#files);
    segment.index = parsed.index;
    segment.size = copy.files.log.bytes;
    segment.durableBytes = segment.size;
    segment.records = copy.nextOffset - copy.baseOffset;
    segment.sealed = true;
    segment.indexDurable = true;
    segment.minTimestamp = parsed.minTimestamp;
    segment.maxTimestamp = copy.maxTimestamp;
    return segment;
  }

  async #index(copy: FinishedCopy, signal: AbortSignal | undefined): Promise<ParsedIndex> {
    const cacheKey = `${copy.copyId}#index`;
    const cached = this.#indexes.get<ParsedIndex>(cacheKey);
    if (cached !== undefined) return cached;
    const [offsetFile, timeFile] = copy.indexesInLog === true ? await this.#fetchAppendedIndexes(copy, signal) : await Promise.all([
      this.#fetchWhole(copy, 'index', signal),
      this.#fetchWhole(copy, 'timeindex', signal),
    ]);
    const parsed = indexFromSealedFiles(offsetFile, timeFile, copy.files.log.bytes, copy.nextOffset - copy.baseOffset);
    if (parsed === null) {
      const path = `${this.#store.location}${remoteKey(copy.baseOffset, copy.copyId, 'index')}`;
      throw new KeelError('KEEL_CORRUPT', `${path}: the remote copy's indexes do not describe its log of ${copy.files.log.bytes} bytes and ${copy.nextOffset - copy.baseOffset} records`, { path });
    }
    parsed.index.freeze();
    this.#indexes.set(cacheKey, parsed, offsetFile.length + timeFile.length);
    return parsed;
  }

  /** A whole object, checked by the store against its own checksum and here against the one the copy recorded. */
  async #fetchWhole(copy: FinishedCopy, kind: 'index' | 'timeindex', signal: AbortSignal | undefined): Promise<Buffer> {
    const key = remoteKey(copy.baseOffset, copy.copyId, kind);
    const bytes = await this.#store.get(key, { signal });
    this.#fetches++;
    this.#fetchedBytes += bytes.length;
    verifyRemoteBytes(`${this.#store.location}${key}`, bytes, copy.files[kind]);
    return bytes;
  }

  /**
   * The indexes of a copy that appended them to its `.log` object, in one range request,
   * each checked against the length and CRC-32C its copy-finished recorded (a range cannot
   * be checked against the object's own checksum).
   */
  async #fetchAppendedIndexes(copy: FinishedCopy, signal: AbortSignal | undefined): Promise<[Buffer, Buffer]> {
    const key = remoteKey(copy.baseOffset, copy.copyId, 'log');
    const { log, index, timeindex } = copy.files;
    const length = index.bytes + timeindex.bytes;
    const bytes = length === 0 ? Buffer.alloc(0) : await this.#store.getRange(key, log.bytes, length, { signal });
    this.#fetches++;
    this.#fetchedBytes += bytes.length;
    const path = `${this.#store.location}${key}`;
    const offsetFile = bytes.subarray(0, index.bytes);
    const timeFile = bytes.subarray(index.bytes);
    verifyRemoteBytes(`${path} (its index, from byte ${log.bytes})`, offsetFile, index);
    verifyRemoteBytes(`${path} (its time index, from byte ${log.bytes + index.bytes})`, timeFile, timeindex);
    return [offsetFile, timeFile];
  }

  clear(): void {
    this.#lastRead = null;
    this.#cache.clear();
    this.#indexes.clear();
  }
}

