import {
  createDirectoryDurably,
  DurabilityDriver,
  GroupCommit,
  KeelError,
  Lifecycle,
  assertArray,
  assertBytes,
  assertMaxBytes,
  assertPayloads,
  badArgument,
  describeType,
  joinPath,
  syncsOnClose,
  type DurabilityPolicy,
  type Io,
  type IoFile,
  type RecoveryReport,
  lockStoreDirectory,
} from '@keel/core';
import { CompactionPlan } from './compaction-plan.js';
import { deleteOutput, deleteSources, readLive, selectLive, writeCompaction, type CompactionHost } from './compaction.js';
import { LOCK_FILE_NAME, PAYLOAD_BYTES_MAX, mappingFileName, segmentFileName } from './format.js';
import type { MappingRecord } from './mapping-file.js';
import { assertDirectory, normalizeOptions, type NormalizedOptions, type PayloadStoreOptions } from './options.js';
import { normalizeRef, type PayloadRef } from './payload-ref.js';
import { readPayload } from './reader.js';
import { recoverDirectory } from './recovery.js';
import { inAppendOrder, scanSegment, type ScannedPayload } from './scan.js';
import { describeSegment, type SegmentInfo, type SegmentState } from './segment.js';
import { SegmentWriter } from './writer.js';

/** Returned by `seal()`: every segment numbered up to `sealed` that exists now is sealed. */
export interface SealHandle {
  readonly sealed: number;
  /** The segment appends go to from now on. */
  readonly active: number;
}

export interface CompactOptions {
  /** true: seal the active segment first so its payloads are compacted too; a SealHandle: compact only segments sealed by then. */
  seal?: boolean | SealHandle;
}

export interface PayloadStoreStats {
  segments: number;
  activeSegment: number;
  diskBytes: number;
  appendedPayloads: number;
  appendedBytes: number;
  reads: number;
  durableBytes: number;
  flushes: number;
  compactions: number;
  pendingCompaction: boolean;
  poisoned: boolean;
  closed: boolean;
}

interface Opened {
  lock: IoFile;
  segments: Map<number, SegmentState>;
  writer: SegmentWriter;
  pending: MappingRecord | null;
  storeId: Uint8Array;
  report: RecoveryReport;
}

/**
 * Payloads in rotating segment files, addressed by `PayloadRef`. Appends are
 * synchronous writes to the active segment; durability follows the policy (or `sync()`).
 * Reads verify every frame. Compaction is two-phase: see `compact`.
 */
export class PayloadStore {
  readonly dir: string;
  readonly #io: Io;
  readonly #options: NormalizedOptions;
  readonly #lock: IoFile;
  readonly #segments: Map<number, SegmentState>;
  readonly #writer: SegmentWriter;
  readonly #lifecycle = new Lifecycle('payload store');
  readonly #commit: GroupCommit;
  readonly #driver: DurabilityDriver;
  readonly #recovery: RecoveryReport;
  readonly #storeId: Uint8Array;
  #pending: CompactionPlan | null = null;
  /** The compaction writing its output right now; close waits for it. */
  #compacting: Promise<CompactionPlan> | null = null;
  #appendedPayloads = 0;
  #reads = 0;
  #compactions = 0;

  private constructor(dir: string, options: NormalizedOptions, opened: Opened) {
    this.dir = dir;
    this.#io = options.io;
    this.#options = options;
    this.#lock = opened.lock;
    this.#segments = opened.segments;
    this.#writer = opened.writer;
    this.#recovery = opened.report;
    this.#storeId = opened.storeId;
    this.#commit = new GroupCommit({ writtenThrough: () => this.#writer.writtenBytes, flush: () => this.#writer.flush(), flushSync: () => this.#writer.flushSync() }, 0, (error) =>
      this.#lifecycle.poison(error),
    );
    this.#driver = new DurabilityDriver(options.durability, this.#commit);
    // A rotation is made durable by the next flush, in every durability mode: ask for it.
    this.#writer.onRotate = () => this.#commit.request();
    if (opened.pending !== null) this.#pending = this.#planFor(opened.pending);
  }

  static async open(dir: string, options?: PayloadStoreOptions): Promise<PayloadStore> {
    assertDirectory(dir);
    const normalized = normalizeOptions(options);
    const io = normalized.io;
    await createDirectoryDurably(io, dir);
    const lock = lockStoreDirectory(io, dir);
    try {
      const found = await recoverDirectory(io, dir, normalized.recovery, normalized.verify);
      const writer = new SegmentWriter(io, dir, found.segments, found.active, found.nextSegment, normalized.segmentBytes);
      return new PayloadStore(dir, normalized, { lock, segments: found.segments, writer, pending: found.pending, storeId: found.storeId, report: found.report });
    } catch (error) {
      lock.closeSync();
      throw error;
    }
  }

  /** What open found and did. */
  get recovery(): RecoveryReport {
    return this.#recovery;
  }

  get durability(): DurabilityPolicy {
    return this.#options.durability;
  }

  /** Appends one payload; the ref is valid at once, durable after the next sync. */
  append(payload: Uint8Array): PayloadRef {
    this.#lifecycle.assertWritable();
    assertBytes(payload, 'payload');
    assertMaxBytes(payload, PAYLOAD_BYTES_MAX, 'payload');
    return this.#append([payload])[0] as PayloadRef;
  }

  /** Appends many payloads with one write per segment they land in. */
  appendBatch(payloads: readonly Uint8Array[]): PayloadRef[] {
    this.#lifecycle.assertWritable();
    assertPayloads(payloads, PAYLOAD_BYTES_MAX);
    if (payloads.length === 0) return [];
    return this.#append(payloads);
  }

  #append(payloads: readonly Uint8Array[]): PayloadRef[] {
    let refs: PayloadRef[];
    try {
      refs = this.#writer.append(payloads);
    } catch (error) {
      this.#poison(error);
      throw error;
    }
    this.#appendedPayloads += payloads.length;
    this.#driver.afterWrite(payloads.length);
    return refs;
  }

  /** Makes every append so far durable (one shared fdatasync per file with new bytes). */
  async sync(): Promise<void> {
    this.#lifecycle.assertWritable();
    await this.#commit.sync();
  }

  /**
   * `sync` on the calling thread: one fdatasync per file with new bytes before it
   * returns. It blocks the event loop for them and shares the async path's group commit: it claims only what was written before
   * its fdatasyncs began, and a failure poisons the store.
   */
  syncSync(): void {
    this.#lifecycle.assertWritable();
    this.#commit.syncSync();
  }

  /**
   * Returns the payload's bytes after checking its frame (magic, length, CRC-32C). For a
   * sealed segment the result is a read-only view into a mapping of the file: never
   * write into it. It stays valid as long as you hold it, even after the segment is
   * deleted by a committed compaction.
   */
  read(ref: PayloadRef): Uint8Array {
    this.#lifecycle.assertOpen();
    const clean = normalizeRef(ref);
    const state = this.#segments.get(clean.segment);
    if (state === undefined) {
      throw new KeelError('KEEL_NOT_FOUND', `segment ${clean.segment} does not exist (never written, or deleted by a committed compaction)`, { offset: clean.offset });
    }
    this.#reads++;
    return readPayload(this.#io, state, clean);
  }

  /**
   * Every payload in the store, verified, in append order (compaction keeps that order).
   * While a compaction is pending the old segments are scanned, not its output. A frame
   * that does not verify throws KEEL_CORRUPT with its file and offset. Payloads appended
   * during the scan may or may not be seen.
   */
  *scan(): Generator<ScannedPayload> {
    this.#lifecycle.assertOpen();
    const pendingOutput = this.#pending?.output ?? null;
    for (const state of inAppendOrder(this.#segments.values())) {
      if (state.segment === pendingOutput || !this.#segments.has(state.segment)) continue;
      for (const scanned of scanSegment(this.#io, state)) {
        this.#lifecycle.assertOpen();
        yield scanned;
      }
    }
  }

  /** Rotates the active segment now; payloads appended after this land in a newer segment. */
  seal(): SealHandle {
    this.#lifecycle.assertWritable();
    try {
      const sealed = this.#writer.rotate();
      this.#driver.afterWrite(0);
      return Object.freeze({ sealed, active: this.#writer.active.segment });
    } catch (error) {
      this.#poison(error);
      throw error;
    }
  }

  /** The compaction that is durable but neither committed nor aborted (also after a reopen), or null. */
  pendingCompaction(): CompactionPlan | null {
    this.#lifecycle.assertOpen();
    return this.#pending;
  }

  /**
   * Phase one of compaction. Rewrites the payloads of `liveRefs` that sit in sealed
   * segments into one new segment and makes it and its ref map durable; every other
   * payload of those segments is garbage once the plan is committed. The returned plan's
   * `mapping` takes each moved ref's key to its new ref. Nothing is deleted until
   * `plan.commit()`; `plan.abort()` removes the new segment instead.
   */
  async compact(liveRefs: readonly PayloadRef[], options: CompactOptions = {}): Promise<CompactionPlan> {
    this.#lifecycle.assertWritable();
    assertArray(liveRefs, 'liveRefs');
    const live = liveRefs.map((ref, index) => normalizeRef(ref, `liveRefs[${index}]`));
    const seal = normalizeSealOption(options);
    if (this.#pending !== null || this.#compacting !== null) throw badArgument('a compaction is already pending; commit or abort it first');
    this.#compacting = this.#compact(live, seal);
    try {
      return await this.#compacting;
    } finally {
      this.#compacting = null;
    }
  }

  async #compact(live: readonly PayloadRef[], seal: boolean | SealHandle): Promise<CompactionPlan> {
    let bound = seal === false ? Number.MAX_SAFE_INTEGER : seal === true ? 0 : seal.sealed;
    if (seal === true) {
      // Make the active segment durable off the event loop first; the seal right after then
      // finds nothing to sync and no flush in flight, so nothing can go on behind a hole.
      await this.#commit.sync();
      bound = this.seal().sealed;
    }
    // Every segment holding payloads appended up to the bound: the sources always cover a prefix of append order.
    const sources = new Map<number, number>();
    for (const state of this.#segments.values()) if (state.sealed && state.order <= bound) sources.set(state.segment, state.order);
    if (sources.size === 0) return new CompactionPlan(null, { commit: async () => undefined, abort: async () => undefined });
    // Everything appended so far (the sources and the active segment's creation) becomes durable first.
    await this.#commit.sync();
    const selected = selectLive(live, sources);
    const payloads = readLive(this.#host(), selected);
    let written: Awaited<ReturnType<typeof writeCompaction>>;
    try {
      written = await writeCompaction(this.#host(), sources, selected, payloads);
    } catch (error) {
      this.#poison(error);
      throw error;
    }
    const { record, order } = written;
    const path = joinPath(this.dir, segmentFileName(record.output));
    const size = this.#io.stat(path)?.size ?? 0;
    this.#segments.set(record.output, {
      segment: record.output,
      kind: 'compaction',
      order,
      path,
      end: size,
      sealed: true,
      file: null,
      durableEnd: size,
      syncing: 0,
      view: null,
    });
    this.#compactions++;
    this.#pending = this.#planFor(record);
    return this.#pending;
  }

  #host(): CompactionHost {
    return {
      io: this.#io,
      dir: this.dir,
      segments: this.#segments,
      storeId: this.#storeId,
      allocateSegment: () => this.#writer.allocateSegment(),
      read: (ref) => readPayload(this.#io, this.#segments.get(ref.segment) as SegmentState, ref),
    };
  }

  #planFor(record: MappingRecord): CompactionPlan {
    const finish = async (plan: CompactionPlan, phase: typeof deleteSources): Promise<void> => {
      this.#lifecycle.assertWritable();
      try {
        await phase(this.#host(), record);
      } catch (error) {
        this.#poison(error);
        throw error;
      }
      if (this.#pending === plan) this.#pending = null;
    };
    return new CompactionPlan(record, { commit: (plan) => finish(plan, deleteSources), abort: (plan) => finish(plan, deleteOutput) });
  }

  /** Bytes of every segment and mapping file this store holds. */
  diskUsage(): number {
    this.#lifecycle.assertOpen();
    let total = 0;
    for (const state of this.#segments.values()) total += state.end;
    if (this.#pending?.output != null) total += this.#io.stat(joinPath(this.dir, mappingFileName(this.#pending.output)))?.size ?? 0;
    return total;
  }

  /** Every segment, oldest number first. */
  segments(): SegmentInfo[] {
    this.#lifecycle.assertOpen();
    return [...this.#segments.values()].sort((left, right) => left.segment - right.segment).map(describeSegment);
  }

  stats(): PayloadStoreStats {
    return {
      segments: this.#segments.size,
      activeSegment: this.#writer.active.segment,
      diskBytes: this.#lifecycle.closed ? 0 : this.diskUsage(),
      appendedPayloads: this.#appendedPayloads,
      appendedBytes: this.#writer.writtenBytes,
      reads: this.#reads,
      durableBytes: this.#commit.durableThrough,
      flushes: this.#commit.flushCount,
      compactions: this.#compactions,
      pendingCompaction: this.#pending !== null,
      poisoned: this.#lifecycle.poisoned !== null,
      closed: this.#lifecycle.closed,
    };
  }

  /**
   * Ends with a final sync unless durability is 'none'; safe to call twice. A poisoned
   * store cannot make that promise: its close releases everything, and core's Lifecycle
   * then rejects with KEEL_POISONED, so that nobody takes it for "all durable".
   */
  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#driver.stop();
      await this.#compacting?.catch(() => undefined);
      await this.#commit.drain();
      try {
        if (syncsOnClose(this.#options.durability) && this.#lifecycle.poisoned === null) await this.#commit.sync();
      } finally {
        this.#writer.closeAll();
        for (const state of this.#segments.values()) state.view = null;
        this.#lock.closeSync();
      }
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #poison(error: unknown): void {
    this.#lifecycle.poison(error);
    this.#commit.poison(error);
  }
}

function normalizeSealOption(options: CompactOptions): boolean | SealHandle {
  if (options === null || typeof options !== 'object') throw badArgument(`compact options must be an object, got ${describeType(options)}`);
  const seal = options.seal ?? false;
  if (typeof seal === 'boolean') return seal;
  if (seal !== null && typeof seal === 'object' && Number.isInteger(seal.sealed) && seal.sealed >= 0) return seal;
  throw badArgument(`compact option seal must be a boolean or the handle seal() returned, got ${describeType(seal)}`);
}
