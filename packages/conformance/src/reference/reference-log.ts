import {
  createDirectoryDurably,
  DurabilityDriver,
  GroupCommit,
  Lifecycle,
  assertBytes,
  assertPosition,
  encodeFrame,
  joinPath,
  nativeIo,
  normalizeDurability,
  normalizeRecoveryPolicy,
  syncsOnClose,
  type DurabilityPolicy,
  type Io,
  type IoFile,
  type RecoveryPolicy,
  type RecoveryReport,
  lockStoreDirectory,
} from '@keel/core';
import type { LogRecord } from '../adapter.js';
import type { ReferenceFlaws } from './flaws.js';
import { REFERENCE_FORMAT, SEGMENT_BYTES_DEFAULT, segmentName } from './format.js';
import { writeIndexSync } from './index-file.js';
import { copyBytes } from '../file-image.js';
import { loadLog } from './recovery.js';

export interface ReferenceLogOptions {
  io?: Io;
  durability?: DurabilityPolicy;
  recovery?: RecoveryPolicy;
  segmentBytes?: number;
  /** Deliberate bugs, for the suite's self-test only. */
  flaws?: ReferenceFlaws;
}

/**
 * A small, correct segmented log built only on core: the yardstick the conformance suite
 * is tested against (it must pass) and the base of the mutants (each must fail). Records
 * are numbered from 0; a record's position is its number.
 */
export class ReferenceLog {
  readonly recovery: RecoveryReport;
  readonly #io: Io;
  readonly #dir: string;
  readonly #flaws: ReferenceFlaws;
  readonly #segmentBytes: number;
  readonly #durability: DurabilityPolicy;
  readonly #lifecycle = new Lifecycle('reference log');
  readonly #commit: GroupCommit;
  readonly #driver: DurabilityDriver;
  readonly #lock: IoFile;
  readonly #records: Uint8Array[];
  #active: IoFile;
  #activeBase: number;
  #activeBytes: number;

  private constructor(io: Io, dir: string, options: ReferenceLogOptions, lock: IoFile, loaded: Awaited<ReturnType<typeof loadLog>>, loadedDurable: boolean) {
    this.#io = io;
    this.#dir = dir;
    this.#flaws = options.flaws ?? {};
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES_DEFAULT;
    this.#durability = normalizeDurability(options.durability);
    this.#lock = lock;
    this.#records = loaded.records;
    this.#active = loaded.active;
    this.#activeBase = loaded.bases[loaded.bases.length - 1] as number;
    this.#activeBytes = loaded.activeBytes;
    this.recovery = loaded.report;
    const target = { writtenThrough: () => this.#records.length, flush: () => this.#flush() };
    this.#commit = new GroupCommit(target, loadedDurable ? this.#records.length : 0, (error) => this.#lifecycle.poison(error));
    this.#driver = new DurabilityDriver(this.#durability, this.#commit);
  }

  static async open(dir: string, options: ReferenceLogOptions = {}): Promise<ReferenceLog> {
    const io = options.io ?? nativeIo;
    const policy = normalizeRecoveryPolicy(options.recovery);
    await createDirectoryDurably(io, dir);
    const lock = lockStoreDirectory(io, dir);
    try {
      const loaded = await loadLog(io, dir, policy, options.flaws ?? {});
      // What an earlier process wrote without syncing may still be only in the page cache:
      // sync it now, or (durability 'none') let the first sync() cover it.
      const syncNow = normalizeDurability(options.durability).mode !== 'none';
      if (syncNow && loaded.activeBytes > 0) await loaded.active.datasync();
      return new ReferenceLog(io, dir, options, lock, loaded, syncNow || options.flaws?.foundBytesDurable === true);
    } catch (error) {
      lock.closeSync();
      throw error;
    }
  }

  get nextPosition(): number {
    return this.#records.length;
  }

  get durablePosition(): number {
    return this.#commit.durableThrough;
  }

  append(payload: Uint8Array): number {
    this.#lifecycle.assertWritable();
    assertBytes(payload, 'payload');
    const frame = encodeFrame(payload, REFERENCE_FORMAT);
    if (this.#activeBytes > 0 && this.#activeBytes + frame.length > this.#segmentBytes) this.roll();
    try {
      this.#active.writeSync(frame, this.#activeBytes);
    } catch (error) {
      throw this.#fail(error);
    }
    this.#activeBytes += frame.length;
    this.#records.push(copyBytes(payload));
    this.#driver.afterWrite();
    return this.#records.length;
  }

  appendBatch(payloads: readonly Uint8Array[]): number {
    for (const payload of payloads) this.append(payload);
    return this.#records.length;
  }

  sync(): Promise<number> {
    this.#lifecycle.assertWritable();
    return this.#commit.sync();
  }

  syncThrough(position: number): Promise<number> {
    this.#lifecycle.assertWritable();
    assertPosition(position, 'position');
    return this.#commit.syncThrough(position);
  }

  /**
   * Seals the active segment and starts the next: data durable, then its index, then the
   * new segment's directory entry, so no index ever points at bytes that are not there.
   */
  roll(): void {
    this.#lifecycle.assertWritable();
    // A flush in flight may already have failed, its pages dropped, without our knowing:
    // a datasync now would "succeed" with nothing to write, and records would go on in
    // the next segment behind a hole. So the roll waits for a moment with no flush.
    if (this.#activeBytes === 0 || this.#commit.busy) return;
    try {
      if (!this.#flaws.indexBeforeData) this.#active.datasyncSync();
      writeIndexSync(this.#io, this.#dir, this.#activeBase, this.#records.length - this.#activeBase);
      const base = this.#records.length;
      const next = this.#io.open(joinPath(this.#dir, segmentName(base)), { create: true });
      if (!this.#flaws.skipDirectorySync) this.#io.syncDirSync(this.#dir);
      this.#active.closeSync();
      this.#active = next;
      this.#activeBase = base;
      this.#activeBytes = 0;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  records(): LogRecord[] {
    this.#lifecycle.assertOpen();
    return this.#records.map((payload, position) => ({ position, payload }));
  }

  stats(): { records: number; durable: number; flushes: number } {
    return { records: this.#records.length, durable: this.#commit.durableThrough, flushes: this.#commit.flushCount };
  }

  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#driver.stop();
      try {
        if (this.#lifecycle.poisoned === null && syncsOnClose(this.#durability)) await this.#commit.sync();
      } finally {
        await this.#commit.drain();
        this.#active.closeSync();
        this.#lock.closeSync();
      }
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #flush(): Promise<void> {
    if (this.#flaws.ackBeforeSync) return;
    const file = this.#active;
    try {
      await file.datasync();
    } catch (error) {
      if (!this.#flaws.retryFailedSync) throw error;
      await file.datasync();
    }
  }

  #fail(error: unknown): unknown {
    this.#lifecycle.poison(error);
    this.#commit.poison(error);
    return error;
  }
}
