import { frameBytes, type IoFile } from '@keel/core';
import type { LogBuffer } from './log-buffer.js';

/** The log buffer keeps at most this many thresholds' worth of memory after a write. */
const BUFFER_KEPT_THRESHOLDS = 4;

/**
 * The append path: frames go into the log buffer, and the buffer is handed to the OS in
 * one positional write when it passes the threshold or when a sync needs it. Nothing
 * here validates: the Journal checks every argument before calling in.
 */
export class JournalWriter {
  readonly #file: IoFile;
  readonly #buffer: LogBuffer;
  readonly #thresholdBytes: number;
  #writes = 0;
  #records = 0;

  constructor(file: IoFile, buffer: LogBuffer, thresholdBytes: number) {
    this.#file = file;
    this.#buffer = buffer;
    this.#thresholdBytes = thresholdBytes;
  }

  get nextLsn(): number {
    return this.#buffer.end;
  }

  /** Every byte below this has been handed to the OS (it is in the page cache or on disk). */
  get handedThrough(): number {
    return this.#buffer.handedThrough;
  }

  get pendingBytes(): number {
    return this.#buffer.pendingBytes;
  }

  get writes(): number {
    return this.#writes;
  }

  get records(): number {
    return this.#records;
  }

  append(payload: Uint8Array): number {
    const lsn = this.#buffer.appendFrame(payload);
    this.#records++;
    if (this.#buffer.pendingBytes >= this.#thresholdBytes) this.handToOs();
    return lsn;
  }

  /**
   * Encodes the batch in runs (one CRC crossing per run), writing early only when the
   * buffer would pass the threshold, so a batch below the threshold costs no write at
   * all until the sync. `bytes` is the batch's frames in all: a batch that stays within
   * the threshold is one run, placed without looking at its records one by one.
   */
  appendBatch(payloads: readonly Uint8Array[], bytes: number): number {
    if (this.#buffer.pendingBytes + bytes <= this.#thresholdBytes) {
      // No record can reach the threshold: the per-record check below would never fire.
      this.#buffer.appendFrames(payloads, bytes);
      this.#records += payloads.length;
      return this.#buffer.end;
    }
    let runStart = 0;
    let runBytes = 0;
    for (let i = 0; i < payloads.length; i++) {
      const pending = this.#buffer.pendingBytes + runBytes;
      if (pending > 0 && pending + payloads[i]!.length >= this.#thresholdBytes) {
        this.#appendRun(payloads, runStart, i, runBytes);
        this.handToOs();
        runStart = i;
        runBytes = 0;
      }
      runBytes += frameBytes(payloads[i]!.length);
    }
    this.#appendRun(payloads, runStart, payloads.length, runBytes);
    this.#records += payloads.length;
    return this.#buffer.end;
  }

  #appendRun(payloads: readonly Uint8Array[], from: number, to: number, bytes: number): void {
    if (to > from) this.#buffer.appendFrames(from === 0 && to === payloads.length ? payloads : payloads.slice(from, to), bytes);
  }

  /** Copies appended bytes that are not yet handed to the OS (`position >= handedThrough`). */
  readPending(into: Uint8Array, position: number): number {
    return this.#buffer.read(into, position);
  }

  /** One synchronous write of everything pending, so a datasync started next covers it. */
  handToOs(): void {
    const write = this.#buffer.pendingWrite();
    if (write === null) return;
    this.#file.writeSync(write.data, write.position);
    this.#handed();
  }

  /**
   * `handToOs()` then an fdatasync of the file, on the calling thread, as one call where
   * the file can do both at once (`writeDatasyncSync`: one crossing into the addon fewer
   * per `syncSync`).
   */
  handToOsAndSync(): void {
    const write = this.#buffer.pendingWrite();
    if (write === null || this.#file.writeDatasyncSync === undefined) {
      this.handToOs();
      this.#file.datasyncSync();
      return;
    }
    // When this throws, the write may be what failed: the bytes stay counted as not handed
    // over, so the poisoned journal's readers see only what surely reached the OS.
    this.#file.writeDatasyncSync(write.data, write.position);
    this.#handed();
  }

  #handed(): void {
    this.#writes++;
    this.#buffer.written();
    this.#buffer.trim(this.#thresholdBytes * BUFFER_KEPT_THRESHOLDS);
  }
}
