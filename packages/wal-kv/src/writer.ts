import { Buffer } from 'node:buffer';
import { FRAME_OVERHEAD_BYTES, type IoFile } from '@keel/core';
import type { PreparedRecord } from './batch.js';
import { VALUE_CRC_BYTES, encodeRecordFrame } from './format.js';
import type { KeyIndex } from './key-index.js';
import { WRITE_BUFFER_BYTES } from './limits.js';
import { LogReader } from './reader.js';

/**
 * The append side of one log file. Records are encoded straight into a write buffer and
 * handed to the OS in one write when the buffer fills, at the next turn of the event
 * loop, or before a sync; values still in the buffer are read from memory, the rest
 * through the log's `LogReader`.
 *
 * Frames are written in core's frame layout (magic u32 BE, length u32 LE, payload,
 * CRC-32C u32 LE over magic + length + payload) without an intermediate payload copy;
 * replay reads them back with core's FrameScanner, so any difference would fail at once.
 */
export class LogWriter {
  readonly file: IoFile;
  /** The log's name in the directory (the handle may have been opened under a temporary name). */
  readonly path: string;
  /** The log's generation, which every record's place names. */
  readonly generation: number;
  /** File offset where the write buffer starts: everything below it reached the OS. */
  flushedThrough: number;
  /** Offset of the last frame appended (the header's offset when none). */
  lastFrameStart: number;
  #buffer: Buffer = Buffer.alloc(WRITE_BUFFER_BYTES);
  #buffered = 0;
  readonly #reader: LogReader;
  readonly #syncs = new Set<Promise<void>>();
  /** Whether this log's fdatasyncs were moved to a thread of their own (at the first one). */
  #syncThreadAsked = false;

  constructor(file: IoFile, generation: number, end: number, lastFrameStart: number, path = file.path) {
    this.file = file;
    this.generation = generation;
    this.path = path;
    this.flushedThrough = end;
    this.lastFrameStart = lastFrameStart;
    this.#reader = new LogReader(file, path);
  }

  /** Offset just past the last appended frame. */
  get end(): number {
    return this.flushedThrough + this.#buffered;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** The log's mapped segments (see `LogReader.segments`), for reads in one native call. */
  get mappedSegments(): ReadonlyArray<Uint8Array | undefined> {
    return this.#reader.segments;
  }

  /** Whether a frame of this payload size fits without flushing first. */
  fits(payloadBytes: number): boolean {
    return this.#buffered === 0 || this.#buffered + payloadBytes + FRAME_OVERHEAD_BYTES <= this.#buffer.length;
  }

  /**
   * Encodes one record frame (seqs from `firstSeq`) behind the buffered ones and has the
   * index seal it. Returns false, with nothing appended and the index unchanged, when the
   * record would leave more than `keysMax` keys. The caller has checked `fits` (and
   * flushed) beforehand.
   *
   * With no read view open (`captureSeq` 0) the index applies the record later: at its
   * next use, or while the log's fdatasync runs (see `DeferredApply`). With read views
   * open (`captureSeq`, the newest one's seq, above 0) it seals and applies it at once,
   * reporting the entries the record replaced that those views still see in
   * `index.captured`, their keys in this buffer (see `bufferedBytesAt`).
   */
  appendRecord(record: PreparedRecord, firstSeq: number, index: KeyIndex, keysMax: number, captureSeq: number): boolean {
    // Before this record is encoded: after a flush it goes where the waiting one is.
    index.applyPending();
    const frameBytes = record.payloadBytes + FRAME_OVERHEAD_BYTES;
    this.#reserve(frameBytes);
    const start = this.#buffered;
    const end = encodeRecordFrame(this.#buffer, start, record.keys, record.values, record.payloadBytes, firstSeq);
    const frameStart = this.flushedThrough + start;
    const sealed =
      captureSeq > 0
        ? index.table.commitRecord(this.#buffer, start, end, frameStart, keysMax, this.generation, captureSeq, index.capturedFor(record.keys.length))
        : index.sealDeferred(this.#buffer, start, end, frameStart, keysMax, this.generation);
    if (!sealed) return false;
    this.#buffered += frameBytes;
    this.lastFrameStart = frameStart;
    return true;
  }

  /** A copy of `length` bytes at `offset` of the write buffer (before the next flush). */
  bufferedBytesAt(offset: number, length: number): Buffer {
    return Buffer.from(this.#buffer.subarray(offset, offset + length));
  }

  /** Hands the buffered frames to the OS in one positional write. Throws on failure. */
  flush(): void {
    if (this.#buffered === 0) return;
    this.file.writeSync(this.#buffer.subarray(0, this.#buffered), this.flushedThrough);
    this.flushedThrough += this.#buffered;
    this.#buffered = 0;
    if (this.#buffer.length > WRITE_BUFFER_BYTES) this.#buffer = Buffer.alloc(WRITE_BUFFER_BYTES);
  }

  /**
   * fdatasync of this log, tracked so that the file is closed only once none is running.
   * It runs on a thread of the log's own (started by the first, stopped when the file is
   * closed), as the journal's do: on the shared threadpool it would pay a hop to a pooled
   * thread and back, and queue behind a checkpoint's or compaction's writes and unlinks.
   * Where the Io has no such thread, its own `datasync` runs.
   */
  async datasync(): Promise<void> {
    if (!this.#syncThreadAsked) {
      this.#syncThreadAsked = true;
      this.file.useSyncThread?.();
    }
    const sync = this.file.datasync();
    this.#syncs.add(sync);
    try {
      await sync;
    } finally {
      this.#syncs.delete(sync);
    }
  }

  /** Waits for the fdatasyncs of this log that are running now. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#syncs]);
  }

  /**
   * Reads the value at `position` (CRC-32C + bytes) of the key whose CRC-32C is
   * `keyCrc`, and verifies it, the key included, before returning a copy; values still
   * in the write buffer come from memory (sealed by the index, so already checked).
   */
  readValue(keyCrc: number, position: number, length: number): Buffer {
    if (position >= this.flushedThrough) {
      const start = position - this.flushedThrough + VALUE_CRC_BYTES;
      return Buffer.from(this.#buffer.subarray(start, start + length));
    }
    return this.#reader.readValue(keyCrc, position, length, this.flushedThrough);
  }

  #reserve(frameBytes: number): void {
    if (this.#buffered + frameBytes <= this.#buffer.length) return;
    const grown = Buffer.alloc(Math.max(this.#buffer.length * 2, this.#buffered + frameBytes));
    grown.set(this.#buffer.subarray(0, this.#buffered));
    this.#buffer = grown;
  }
}
