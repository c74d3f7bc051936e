import type { IoFile } from '@keel/core';
import type { SealedFileCache } from './file-cache.js';
import { HEADER_BYTES, INDEX_ENTRIES_MAX, type SegmentPaths } from './format.js';
import type { FrameTable } from './frame-table.js';

/**
 * A sparse index held in memory. Entries are appended as the log grows; `guard` is the
 * log position that must be durable before an entry may be written to its file (the end
 * of the frame that created it), so an index never points at bytes a crash can lose.
 */
export class SparseIndex {
  /** Offset index: position of an indexed batch frame and the relative offset of its first record. */
  offsetRelative: number[] | Uint32Array = [];
  offsetPosition: number[] | Uint32Array = [];
  offsetGuard: number[] = [];
  /** Time index: the max timestamp so far and the relative offset of the record that has it. */
  timeTimestamp: number[] | Float64Array = [];
  timeRelative: number[] | Uint32Array = [];
  timeGuard: number[] = [];
  /** How many entries of each are in the index files. */
  offsetWritten = 0;
  timeWritten = 0;

  addOffset(relative: number, position: number, guard: number): void {
    (this.offsetRelative as number[]).push(relative);
    (this.offsetPosition as number[]).push(position);
    this.offsetGuard.push(guard);
  }

  addTime(timestamp: number, relative: number, guard: number): void {
    (this.timeTimestamp as number[]).push(timestamp);
    (this.timeRelative as number[]).push(relative);
    this.timeGuard.push(guard);
  }

  /**
   * A sealed segment's index never grows again: typed arrays hold it in about a third of
   * the memory (an index of a 1 GiB segment at the default interval is ~5 MB this way).
   */
  freeze(): void {
    if (this.offsetRelative instanceof Uint32Array) return;
    this.offsetRelative = Uint32Array.from(this.offsetRelative);
    this.offsetPosition = Uint32Array.from(this.offsetPosition);
    this.timeTimestamp = Float64Array.from(this.timeTimestamp);
    this.timeRelative = Uint32Array.from(this.timeRelative);
    this.offsetGuard = [];
    this.timeGuard = [];
  }

  get lastTimestamp(): number {
    return this.timeTimestamp.length === 0 ? -Infinity : (this.timeTimestamp[this.timeTimestamp.length - 1] as number);
  }

  /** Position to start scanning for `relative`: the last indexed frame starting at or before it. */
  positionFor(relative: number): number {
    const index = lastAtOrBelow(this.offsetRelative, relative);
    return index < 0 ? HEADER_BYTES : (this.offsetPosition[index] as number);
  }

  /** First relative offset that can hold a timestamp >= `timestamp` (max-so-far rule). */
  relativeForTimestamp(timestamp: number): number {
    const index = lastAtOrBelow(this.timeTimestamp, timestamp - 1);
    // Every record up to that entry has a timestamp <= the entry's, which is below the target.
    return index < 0 ? 0 : (this.timeRelative[index] as number) + 1;
  }
}

/** Index of the last element <= `value` in an ascending array, or -1. */
export function lastAtOrBelow(sorted: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) <= value) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

export interface IndexFiles {
  offset: IoFile;
  time: IoFile;
}

/** A store id that is none: headers refuse to be written or checked with it (see versionedOffsetPayload). */
const NO_STORE_ID = new Uint8Array(0);

/** One segment: a `.log` of frames plus its sparse indexes, in memory and on disk. */
export class Segment {
  readonly baseOffset: number;
  readonly paths: SegmentPaths;
  index = new SparseIndex();
  /**
   * Open from the first flush after the segment's roll (or from open) until its sealed
   * frames are written; null before and after.
   */
  indexFiles: IndexFiles | null = null;
  /**
   * Where the `.log` is while it still has the prepared file's name (a roll took that file;
   * background work after a flush renames it), else null. Its file stays open meanwhile:
   * nothing opens it by path.
   */
  preparedPath: string | null = null;
  /** Bytes of valid frames, header included. */
  size = HEADER_BYTES;
  /** Bytes known durable: 0 for a segment a roll created, until a flush syncs its header. */
  durableBytes = HEADER_BYTES;
  records = 0;
  sealed = false;
  /** The directory entry is durable: false for a segment a roll created under its own name, until a flush syncs the directory. */
  entryDurable = true;
  /**
   * The flags of the header this log wrote for the segment (0 for one found on open): with
   * HEADER_FLAG_SEALED_DURABLE, its header vouches for every segment before it, and the
   * sealed-offset checkpoint need not name the segment before it.
   */
  headerFlags = 0;
  /**
   * A sealed segment's index files durably hold their sealed frames. They are written only
   * once the whole log is durable, so on open a sealed frame proves the log was made whole.
   */
  indexDurable = false;
  /** Its `.log` handle runs async fdatasyncs on an OS thread of its own (see `syncOnOwnThread` in writer.ts). */
  syncThread = false;
  /**
   * The fdatasync a roll started on this segment's log as it sealed it, covering every byte
   * the segment will ever hold (a sealed segment takes no more writes): the flush that
   * acknowledges the roll waits for it instead of starting its own (see `roll` in writer.ts).
   * Null when none was started.
   */
  sealSync: Promise<void> | null = null;
  /** The write of its sealed frames while it runs after the flush that made them due (see `flushLog`). */
  indexWriting: Promise<void> | null = null;
  /** Smallest timestamp, or undefined when not known yet. */
  minTimestamp: number | undefined = undefined;
  maxTimestamp = -Infinity;
  maxTimestampRelative = -1;
  /** Timestamp of the first record: a segment rolls once records are `segmentMs` newer. */
  firstTimestamp: number | undefined = undefined;
  lastIndexedPosition = HEADER_BYTES;
  /** The id of the store this segment belongs to (its header names it): set by whoever creates the Segment. */
  storeId: Uint8Array = NO_STORE_ID;
  #file: IoFile | null;
  readonly #open: () => IoFile;
  readonly #cache: SealedFileCache;

  /**
   * `open` opens the `.log` for reading; `file` is the already open (writable) file of an
   * active segment. An active segment keeps its file; a sealed one shares `cache`, which
   * closes the least recently used sealed files, and is reopened on demand.
   */
  constructor(baseOffset: number, paths: SegmentPaths, open: () => IoFile, cache: SealedFileCache, file: IoFile | null = null) {
    this.baseOffset = baseOffset;
    this.paths = paths;
    this.#open = open;
    this.#cache = cache;
    this.#file = file;
  }

  get log(): IoFile {
    this.#file ??= this.#open();
    if (this.sealed) this.#cache.touch(this);
    return this.#file;
  }

  /**
   * Called by the cache: closes a sealed segment's file until it is needed again. Returns
   * false, and keeps the file, while the segment is not yet durable: a writeback error is
   * reported to the handles open when it happened, not to one opened later.
   */
  releaseFile(): boolean {
    if (this.durableBytes < this.size || this.preparedPath !== null) return false;
    const file = this.#file;
    this.#file = null;
    // Closing the handle stops its sync thread too; a reopened handle has none.
    this.syncThread = false;
    file?.closeSync();
    return true;
  }

  get nextOffset(): number {
    return this.baseOffset + this.records;
  }

  /**
   * Accounts for one record just placed in the batch frame at [position, end): timestamps,
   * and the sparse index entries Kafka's rules call for (an offset entry once
   * `intervalBytes` have passed since the last one, and with it a time entry when the max
   * timestamp grew). Records are observed in order, each with its frame's position, so an
   * entry is only ever added at a frame's first record: every entry names a frame start and
   * the offset of its first record.
   */
  observe(timestamp: number, position: number, end: number, intervalBytes: number): void {
    const relative = this.records;
    if (this.records === 0) this.firstTimestamp = timestamp;
    this.records++;
    this.size = end;
    if (this.minTimestamp === undefined || timestamp < this.minTimestamp) this.minTimestamp = timestamp;
    if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
      this.maxTimestampRelative = relative;
    }
    if (position - this.lastIndexedPosition < intervalBytes || this.#indexFull()) return;
    this.#addEntries(relative, position, end, this.maxTimestamp, this.maxTimestampRelative);
  }

  /**
   * `observe` for a run just written at the segment's end: records `from` to `to - 1` of
   * the batch whose `timestamps` these are (null: every one of them has `now`), in the
   * frames `frames` names. The same entries, timestamps and sizes, with the segment's
   * fields read and written once per run rather than once per record (the batch path's
   * accounting), and without a visit per record when the records share one timestamp. A
   * property test holds it to `observe`, record by record.
   */
  observeRun(timestamps: Float64Array | null, now: number, from: number, to: number, frames: FrameTable, intervalBytes: number): void {
    if (to <= from) return;
    if (this.records === 0) this.firstTimestamp = timestamps === null ? now : (timestamps[from] as number);
    const runStart = this.size;
    let relative = this.records;
    let min = this.minTimestamp ?? Infinity;
    let max = this.maxTimestamp;
    let maxRelative = this.maxTimestampRelative;
    if (timestamps === null) {
      // Only the run's first record can move them, and it is visited before any entry is taken.
      if (now < min) min = now;
      if (now > max) {
        max = now;
        maxRelative = relative;
      }
    }
    // The first position that takes an offset entry; past the index's last slot, none does.
    let nextIndexed = this.#indexFull() ? Infinity : this.lastIndexedPosition + intervalBytes;
    let position = runStart;
    let record = from;
    for (let frame = 0; frame < frames.count; frame++) {
      const end = runStart + (frames.end[frame] as number);
      const last = frame + 1 < frames.count ? (frames.firstRecord[frame + 1] as number) : to;
      if (timestamps === null) {
        if (record < last && position >= nextIndexed) {
          this.#addEntries(relative, position, end, max, maxRelative);
          nextIndexed = this.#indexFull() ? Infinity : position + intervalBytes;
        }
        relative += last - record;
        record = last;
      } else for (let first = record; record < last; record++, relative++) {
        const timestamp = timestamps[record] as number;
        if (timestamp < min) min = timestamp;
        if (timestamp > max) {
          max = timestamp;
          maxRelative = relative;
        }
        if (record === first && position >= nextIndexed) {
          this.#addEntries(relative, position, end, max, maxRelative);
          nextIndexed = this.#indexFull() ? Infinity : position + intervalBytes;
        }
      }
      position = end;
    }
    this.records = relative;
    this.size = position;
    this.minTimestamp = min;
    this.maxTimestamp = max;
    this.maxTimestampRelative = maxRelative;
  }

  /** No further offset entry: one slot stays free, for the time entry a seal may add (time entries are never more than offset entries + 1). */
  #indexFull(): boolean {
    return this.index.offsetRelative.length >= INDEX_ENTRIES_MAX - 1;
  }

  /** An offset entry for the record at `position`, and a time entry when the max timestamp so far (`max`, at `maxRelative`) grew. */
  #addEntries(relative: number, position: number, end: number, max: number, maxRelative: number): void {
    this.lastIndexedPosition = position;
    this.index.addOffset(relative, position, end);
    if (max > this.index.lastTimestamp) this.index.addTime(max, maxRelative, end);
  }

  /** At seal the time index gets a last entry for the segment's max timestamp, so it can be read back from the index alone. */
  addSealTimeEntry(): void {
    if (this.records > 0 && this.maxTimestamp > this.index.lastTimestamp) this.index.addTime(this.maxTimestamp, this.maxTimestampRelative, this.size);
  }

  closeFiles(): void {
    this.closeIndexFiles();
    this.#cache.forget(this);
    const file = this.#file;
    this.#file = null;
    file?.closeSync();
  }

  closeIndexFiles(): void {
    if (!this.indexFiles) return;
    const files = this.indexFiles;
    this.indexFiles = null;
    files.offset.closeSync();
    files.time.closeSync();
  }
}
