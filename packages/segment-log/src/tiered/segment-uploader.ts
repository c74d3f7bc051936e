import {
  KeelError, REMOTE_OBJECT_BYTES_MAX, hex32, isKeelError, nativeIo, remoteChecksum, type Io, type IoFile, type RemotePutOptions, type RemoteStore,
} from '@keel/core';
import { randomBytes } from 'node:crypto';

import { BATCH_FRAME_BYTES_MAX, SEGMENT_BYTES_MAX, type SegmentPaths } from '../format.js';
import {
  COPY_ID_BYTES, SEGMENT_FILE_KINDS, encodeOffloadEvent, type CopiedFile, type CopiedFiles, type CopyFinishedEvent, type SegmentFileKind,
} from './offload-event.js';
import { CopyPacing } from './copy-pacing.js';
import { CopyQuota, systemClock } from './copy-quota.js';
import type { OffloadJournal } from './offload-journal.js';
import type { RemoteCopy } from './offload-state.js';
import { ReadBuffer } from './read-buffer.js';
import { copyObjectKinds, remoteKey } from './remote-keys.js';

export const UPLOAD_BACKOFF_BASE_MS_DEFAULT = 1_000;
export const UPLOAD_BACKOFF_MAX_MS_DEFAULT = 60_000;

// A sealed segment (up to SEGMENT_BYTES_MAX plus the record that passed it) is one object.
if (SEGMENT_BYTES_MAX + BATCH_FRAME_BYTES_MAX > REMOTE_OBJECT_BYTES_MAX) throw new Error('a segment does not fit one remote object');

/** A segment that will never be written again, and where its files are. */
export interface SealedSegment {
  baseOffset: number;
  /** The offset after its last record. */
  nextOffset: number;
  /** Its largest record timestamp (retention by age of the remote copy). */
  maxTimestamp: number;
  paths: SegmentPaths;
}

export interface SegmentUploaderOptions {
  store: RemoteStore;
  journal: OffloadJournal;
  /** Reads the local segment files (default: the native Io). */
  io?: Io;
  /** Waits between tries of work the store refused or could not take: full jitter, doubling from base to max. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told about every failed try; the uploader keeps going regardless. */
  onError?: (error: unknown, work: UploadWork) => void;
  /** Told once a copy's copy-finished is durable: from then on the local files may go. */
  onCopied?: (copy: RemoteCopy) => void;
  /** Paces the puts (`tiered.copyBytesPerSecond`); default unlimited. */
  quota?: CopyQuota;
}

export type UploadWork = { kind: 'copy'; segment: SealedSegment } | { kind: 'delete'; copy: RemoteCopy };

export interface SegmentUploaderStats {
  /** Segments whose copy finished, and the bytes of their objects. */
  copied: number;
  copiedBytes: number;
  /** Copies whose objects were deleted. */
  deleted: number;
  /** Tries that failed and will be tried again after a backoff. */
  failedTries: number;
  /** Segments dropped because their local files could not be read (they were deleted, or are damaged). */
  dropped: number;
  /** Work waiting, the one in progress included. */
  queued: number;
}

/**
 * Copies sealed segments to a RemoteStore in the background, one at a time in the order
 * they were enqueued, recording each step in the OffloadJournal before acting on it
 * (KIP-405's RemoteLogManager copy task); a copy's finish and the next copy's start share
 * one journal sync. A copy quota, when set, holds each part of a copy back until it fits. A
 * copy the store cannot take is tried again, with the same copy id, after a backoff that
 * doubles up to `backoffMaxMs` (paying the quota again: its bytes go again); puts are
 * idempotent, so objects that had landed are not sent twice. Copies a crash left half done
 * (and copies given up on) have their objects deleted before newer work runs.
 */
export class SegmentUploader {
  readonly #store: RemoteStore;
  readonly #journal: OffloadJournal;
  readonly #io: Io;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #onError: ((error: unknown, work: UploadWork) => void) | undefined;
  readonly #onCopied: ((copy: RemoteCopy) => void) | undefined;
  readonly #quota: CopyQuota;
  readonly #queue: UploadWork[] = [];
  readonly #stop = new AbortController();
  /** The copy id in use for each base offset whose copy started but has not finished. */
  readonly #copyIds = new Map<number, string>();
  /** Base offsets whose copy-started is durable but whose objects no put has tried yet. */
  readonly #untried = new Set<number>();
  readonly #readBuffer = new ReadBuffer();
  readonly #idleWaiters: Array<() => void> = [];
  #running = false;
  #stats = { copied: 0, copiedBytes: 0, deleted: 0, failedTries: 0, dropped: 0 };

  constructor(options: SegmentUploaderOptions) {
    this.#store = options.store;
    this.#journal = options.journal;
    this.#io = options.io ?? nativeIo;
    this.#backoffBaseMs = options.backoffBaseMs ?? UPLOAD_BACKOFF_BASE_MS_DEFAULT;
    this.#backoffMaxMs = Math.max(this.#backoffBaseMs, options.backoffMaxMs ?? UPLOAD_BACKOFF_MAX_MS_DEFAULT);
    this.#onError = options.onError;
    this.#onCopied = options.onCopied;
    this.#quota = options.quota ?? new CopyQuota(undefined);
    // Half-done copies first: their objects go before anything new is sent.
    for (const copy of this.#journal.unfinished()) this.#queue.push({ kind: 'delete', copy });
    this.#kick();
  }

  /** Queues a sealed segment for copying; one that has a finished copy, or is queued, is skipped. */
  enqueue(segment: SealedSegment): void {
    this.#assertOpen();
    if (this.#journal.finishedCopy(segment.baseOffset) !== undefined) return;
    if (this.#queue.some((work) => work.kind === 'copy' && work.segment.baseOffset === segment.baseOffset)) return;
    this.#queue.push({ kind: 'copy', segment });
    this.#kick();
  }

  /**
   * Retires a segment's finished copy (remote retention): its delete-started is made
   * durable now, so the copy no longer counts whatever happens next, and the deletion of
   * its objects is queued. A segment without a finished copy is skipped.
   */
  async deleteCopy(baseOffset: number): Promise<void> {
    this.#assertOpen();
    const copy = this.#journal.finishedCopy(baseOffset);
    if (copy === undefined) return;
    await this.#journal.record({ type: 'delete-started', baseOffset: copy.baseOffset, copyId: copy.copyId });
    this.#queue.push({ kind: 'delete', copy: { ...copy, state: 'deleting' } });
    this.#kick();
  }

  /** Resolves once every queued piece of work is done (or the uploader is closed). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stats(): SegmentUploaderStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /**
   * Stops: the store call in flight is aborted, and whatever copy it belonged to stays
   * "started" in the journal, to be cleaned up by the next uploader on that journal.
   */
  async close(): Promise<void> {
    this.#stop.abort(new KeelError('KEEL_CLOSED', 'the segment uploader was closed'));
    await this.idle();
  }

  #assertOpen(): void {
    if (this.#stop.signal.aborted) throw new KeelError('KEEL_CLOSED', 'the segment uploader is closed');
  }

  #kick(): void {
    if (this.#running || this.#queue.length === 0 || this.#stop.signal.aborted) return;
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#queue.length > 0 && !this.#stop.signal.aborted) {
      const work = this.#queue[0]!;
      try {
        if (work.kind === 'copy') await this.#copy(work.segment);
        else await this.#delete(work.copy);
        this.#queue.shift();
        failures = 0;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        this.#onError?.(error, work);
        if (work.kind === 'copy' && error instanceof LocalReadError) {
          this.#queue.shift();
          this.#stats.dropped += 1;
          continue;
        }
        this.#stats.failedTries += 1;
        failures += 1;
        await this.#backoff(failures);
      }
    }
  }

  async #copy(segment: SealedSegment): Promise<void> {
    const { object, files } = await this.#readSegment(segment);
    let copyId = this.#copyIds.get(segment.baseOffset);
    // A copy id no put has tried yet names objects no one has put: the store need not look first.
    let unusedKey = this.#untried.delete(segment.baseOffset);
    if (copyId === undefined) {
      copyId = randomBytes(COPY_ID_BYTES).toString('hex');
      await this.#journal.record({ type: 'copy-started', baseOffset: segment.baseOffset, copyId });
      this.#copyIds.set(segment.baseOffset, copyId);
      unusedKey = true;
    }
    const finished: CopyFinishedEvent = {
      type: 'copy-finished', baseOffset: segment.baseOffset, copyId, nextOffset: segment.nextOffset, maxTimestamp: segment.maxTimestamp, files, indexesInLog: true,
    };
    const manifest = encodeOffloadEvent(finished);
    // The copy quota is paid part by part as the store sends the object, the manifest with
    // its last part: nothing waits between the last put and the journal record that makes it count.
    const pacing = new CopyPacing(this.#quota, object.length, manifest.length);
    // One object holds the log and, after it, both indexes (offload event version 2): each
    // request costs the store and this process far more than its bytes (README, "Format (tiered)").
    await this.#put(remoteKey(segment.baseOffset, copyId, 'log'), object, unusedKey, pacing.beforeSend);
    await pacing.settle(this.#stop.signal);
    // The manifest goes last: a reader that finds it finds every object it names.
    await this.#put(remoteKey(segment.baseOffset, copyId, 'manifest'), manifest, unusedKey);
    // The next queued copy starts under the same sync as this one finishes: one journal
    // sync per segment instead of two while a backlog lasts.
    const next = this.#nextCopy();
    const nextStarted = next === undefined ? [] : [{ type: 'copy-started', baseOffset: next, copyId: randomBytes(COPY_ID_BYTES).toString('hex') } as const];
    await this.#journal.recordAll([finished, ...nextStarted]);
    this.#copyIds.delete(segment.baseOffset);
    for (const started of nextStarted) {
      this.#copyIds.set(started.baseOffset, started.copyId);
      this.#untried.add(started.baseOffset);
    }
    this.#stats.copied += 1;
    this.#stats.copiedBytes += object.length + manifest.length;
    const copy = this.#journal.finishedCopy(segment.baseOffset);
    if (copy !== undefined) this.#onCopied?.(copy);
  }

  /** The base offset of the first queued copy after the one in progress that has not started, if any. */
  #nextCopy(): number | undefined {
    for (const work of this.#queue.slice(1)) {
      if (work.kind === 'copy' && !this.#copyIds.has(work.segment.baseOffset)) return work.segment.baseOffset;
    }
    return undefined;
  }

  /** Puts one object and checks that the store kept the checksum of the bytes sent. */
  async #put(key: string, bytes: Buffer, unusedKey: boolean, beforeSend?: RemotePutOptions['beforeSend']): Promise<CopiedFile> {
    const checksum = remoteChecksum(bytes);
    const stored = await this.#store.put(key, bytes, { signal: this.#stop.signal, unusedKey, ...(beforeSend === undefined ? {} : { beforeSend }) });
    if (stored.bytes !== bytes.length || stored.checksum !== checksum) {
      throw new KeelError('KEEL_CORRUPT', `${this.#store.location}${key}: the store holds ${stored.bytes} bytes with CRC-32C ${hex32(stored.checksum)}, not the ${bytes.length} bytes with ${hex32(checksum)} sent`);
    }
    return { bytes: bytes.length, checksum };
  }

  async #delete(copy: RemoteCopy): Promise<void> {
    if (copy.state !== 'deleting') {
      await this.#journal.record({ type: 'delete-started', baseOffset: copy.baseOffset, copyId: copy.copyId });
      copy.state = 'deleting';
    }
    // The manifest goes first: a reader that lists the store no longer finds the copy.
    for (const kind of copyObjectKinds(copy)) {
      await this.#store.delete(remoteKey(copy.baseOffset, copy.copyId, kind), { signal: this.#stop.signal });
    }
    await this.#journal.record({ type: 'delete-finished', baseOffset: copy.baseOffset, copyId: copy.copyId });
    this.#stats.deleted += 1;
  }

  /**
   * The segment's three files, read whole into one buffer (log, index, time index), with
   * each file's length and CRC-32C. A failure here is local (the files were deleted by
   * retention, or cannot be read): the segment is dropped and a copy it had started is
   * queued for deletion.
   */
  async #readSegment(segment: SealedSegment): Promise<{ object: Buffer; files: CopiedFiles }> {
    try {
      const paths = [segment.paths.log, segment.paths.offsetIndex, segment.paths.timeIndex];
      const { bytes, sizes } = await readFilesInto(this.#io, paths, (size) => this.#readBuffer.take(size));
      let at = 0;
      const files = Object.fromEntries(SEGMENT_FILE_KINDS.map((kind, index) => {
        const part = bytes.subarray(at, at + sizes[index]!);
        at += part.length;
        return [kind, { bytes: part.length, checksum: remoteChecksum(part) }];
      })) as CopiedFiles;
      return { object: bytes, files };
    } catch (error) {
      const copyId = this.#copyIds.get(segment.baseOffset);
      if (copyId !== undefined) {
        this.#copyIds.delete(segment.baseOffset);
        this.#untried.delete(segment.baseOffset);
        this.#queue.push({ kind: 'delete', copy: { baseOffset: segment.baseOffset, copyId, state: 'copying' } });
      }
      throw new LocalReadError(segment, error);
    }
  }

  #backoff(failures: number): Promise<void> {
    const bound = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** Math.min(failures - 1, 30));
    const delay = Math.floor(Math.random() * (bound + 1));
    // Closing ends the wait at once (the abort is not an error here: the loop sees the stop).
    return systemClock.sleep(delay, this.#stop.signal).catch(() => undefined);
  }
}

class LocalReadError extends Error {
  constructor(segment: SealedSegment, cause: unknown) {
    super(`the files of the segment at ${segment.baseOffset} could not be read: ${isKeelError(cause) ? cause.code : String(cause)}`, { cause });
    this.name = 'LocalReadError';
  }
}

/** The files at `paths`, read whole one after another into one buffer from `allocate`, and each one's length. */
async function readFilesInto(io: Io, paths: readonly string[], allocate: (size: number) => Buffer): Promise<{ bytes: Buffer; sizes: number[] }> {
  const files: IoFile[] = [];
  try {
    for (const path of paths) files.push(io.open(path));
    const sizes = files.map((file) => file.sizeSync());
    const total = sizes.reduce((sum, size) => sum + size, 0);
    if (total > REMOTE_OBJECT_BYTES_MAX) throw new KeelError('KEEL_TOO_LARGE', `${paths[0]} and its indexes are ${total} bytes, more than one remote object holds`, { path: paths[0] });
    const bytes = allocate(total);
    let at = 0;
    for (const [index, file] of files.entries()) {
      const size = sizes[index]!;
      for (let filled = 0; filled < size;) {
        const read = await file.read(bytes.subarray(at + filled, at + size), filled);
        if (read === 0) throw new KeelError('KEEL_CORRUPT', `${file.path} shrank from ${size} to ${filled} bytes while it was read`, { path: file.path, offset: filled });
        filled += read;
      }
      at += size;
    }
    return { bytes, sizes };
  } finally {
    for (const file of files) file.closeSync();
  }
}
