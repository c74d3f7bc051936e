import {
  KeelError,
  Store,
  assertArray,
  assertBytes,
  assertMaxBytes,
  assertPayloads,
  badArgument,
  describeType,
  joinPath,
  openStoreDirectory,
  type DurabilityPolicy,
  storeFileNames,
  type BackupPlan,
  type Io,
  type StoreDirectory,
} from '@keel/core';
import { CompactionPlan } from './compaction-plan.js';
import { deleteOutput, deleteSources, writeCompaction, type CompactionHost } from './compaction.js';
import { PAYLOAD_BYTES_MAX, SEGMENT_HEADER_BYTES, mappingFileName, segmentFileName } from './format.js';
import type { MappingRecord } from './mapping-file.js';
import { assertDirectory, normalizeOptions, type NormalizedOptions, type PayloadStoreOptions } from './options.js';
import { normalizeRef, type PayloadRef } from './payload-ref.js';
import { readPayload } from './reader.js';
import { normalizeLiveRefs, selectLive } from './live-selection.js';
import { recoverDirectory, type OpenedDirectory } from './recovery.js';
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

/** payload-store's own `stats()` fields; the shared ones (durability, flushes, poisoned, closed, …) come from core's `StoreStats`. */
export interface PayloadStoreStats {
  segments: number;
  activeSegment: number;
  diskBytes: number;
  appendedPayloads: number;
  appendedBytes: number;
  reads: number;
  durableBytes: number;
  compactions: number;
  pendingCompaction: boolean;
}

/**
 * Payloads in rotating segment files, addressed by `PayloadRef`. Appends are
 * synchronous writes to the active segment; durability follows the policy (or `sync()`).
 * Reads verify every frame. Compaction is two-phase: see `compact`.
 */
export class PayloadStore extends Store<PayloadStoreStats> {
  readonly dir: string;
  readonly #segments: Map<number, SegmentState>;
  readonly #writer: SegmentWriter;
  readonly #storeId: Uint8Array;
  #pending: CompactionPlan | null = null;
  /** The compaction writing its output right now; close waits for it. */
  #compacting: Promise<CompactionPlan> | null = null;
  #appendedPayloads = 0;
  #reads = 0;
  #compactions = 0;

  private constructor(opened: StoreDirectory & { recovered: OpenedDirectory }, options: NormalizedOptions) {
    const found = opened.recovered;
    super({ name: `payload store ${opened.dir}`, io: opened.io, durability: options.durability, durableThrough: 0, recovery: found.report, lock: opened.lock, overlay: opened.overlay, baseIo: opened.baseIo });
    this.dir = opened.dir;
    this.#segments = found.segments;
    this.#storeId = found.storeId;
    this.#writer = new SegmentWriter(opened.io, opened.dir, found.segments, found.active, found.nextSegment, options.segmentBytes, found.storeId);
    // A rotation is made durable by the next flush, in every durability mode: ask for it.
    this.#writer.onRotate = () => this.requestFlush();
    if (found.pending !== null) this.#pending = this.#planFor(found.pending);
  }

  static async open(dir: string, options?: PayloadStoreOptions): Promise<PayloadStore> {
    assertDirectory(dir);
    const normalized = normalizeOptions(options);
    const opened = await openStoreDirectory(normalized.io, dir, (store) => recoverDirectory(store.io, dir, normalized.recovery, normalized.verify), { readOnly: normalized.readOnly });
    return new PayloadStore(opened, normalized);
  }

  get durability(): DurabilityPolicy {
    return this.durabilityPolicy;
  }

  /** Appends one payload; the ref is valid at once, durable after the next sync. */
  append(payload: Uint8Array): PayloadRef {
    this.assertWritable();
    assertBytes(payload, 'payload');
    assertMaxBytes(payload, PAYLOAD_BYTES_MAX, 'payload');
    return this.#append([payload])[0] as PayloadRef;
  }

  /** Appends many payloads with one write per segment they land in. */
  appendBatch(payloads: readonly Uint8Array[]): PayloadRef[] {
    this.assertWritable();
    assertPayloads(payloads, PAYLOAD_BYTES_MAX);
    if (payloads.length === 0) return [];
    return this.#append(payloads);
  }

  #append(payloads: readonly Uint8Array[]): PayloadRef[] {
    const refs = this.#writer.append(payloads);
    this.#appendedPayloads += payloads.length;
    this.wrote(payloads.length);
    return refs;
  }

  /**
   * Returns the payload's bytes after checking its frame (magic, length, CRC-32C). For a
   * sealed segment the result is a read-only view into a mapping of the file: never
   * write into it. It stays valid as long as you hold it, even after the segment is
   * deleted by a committed compaction.
   */
  read(ref: PayloadRef): Uint8Array {
    this.assertOpen();
    const clean = normalizeRef(ref);
    const state = this.#segments.get(clean.segment);
    if (state === undefined) {
      throw new KeelError('KEEL_NOT_FOUND', `segment ${clean.segment} does not exist (never written, or deleted by a committed compaction)`, { offset: clean.offset });
    }
    this.#reads++;
    return readPayload(this.io, state, clean);
  }

  /**
   * Every payload in the store, verified, in append order (compaction keeps that order).
   * While a compaction is pending the old segments are scanned, not its output. A frame
   * that does not verify throws KEEL_CORRUPT with its file and offset. Payloads appended
   * during the scan may or may not be seen.
   */
  *scan(): Generator<ScannedPayload> {
    this.assertOpen();
    const pendingOutput = this.#pending?.output ?? null;
    for (const state of inAppendOrder(this.#segments.values())) {
      if (state.segment === pendingOutput || !this.#segments.has(state.segment)) continue;
      for (const scanned of scanSegment(this.io, state)) {
        this.assertOpen();
        yield scanned;
      }
    }
  }

  /** Rotates the active segment now; payloads appended after this land in a newer segment. */
  seal(): SealHandle {
    this.assertWritable();
    const sealed = this.#writer.rotate();
    this.wrote(0);
    return Object.freeze({ sealed, active: this.#writer.active.segment });
  }

  /** The compaction that is durable but neither committed nor aborted (also after a reopen), or null. */
  pendingCompaction(): CompactionPlan | null {
    this.assertOpen();
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
    this.assertWritable();
    assertArray(liveRefs, 'liveRefs');
    const seal = normalizeSealOption(options);
    if (this.#pending !== null || this.#compacting !== null) throw badArgument('a compaction is already pending; commit or abort it first');
    this.#compacting = this.#compact(liveRefs, seal);
    try {
      return await this.#compacting;
    } finally {
      this.#compacting = null;
    }
  }

  /**
   * Every step that is per payload runs a slice per turn of the event loop, and the
   * copy's reads and writes run on the threadpool: a compaction of any size holds the
   * loop up for one slice at a time.
   */
  async #compact(liveRefs: readonly PayloadRef[], seal: boolean | SealHandle): Promise<CompactionPlan> {
    // Validated before anything changes, the seal included.
    const live = await normalizeLiveRefs(liveRefs);
    this.assertWritable();
    let bound = seal === false ? Number.MAX_SAFE_INTEGER : seal === true ? 0 : seal.sealed;
    if (seal === true) {
      // Make the active segment durable off the event loop first; the seal right after then
      // finds nothing to sync and no flush in flight, so nothing can go on behind a hole.
      await this.sync();
      bound = this.seal().sealed;
    }
    // Every segment holding payloads appended up to the bound: the sources always cover a prefix of append order.
    const sources = new Map<number, number>();
    for (const state of this.#segments.values()) if (state.sealed && state.order <= bound) sources.set(state.segment, state.order);
    if (sources.size === 0) return new CompactionPlan(null, { commit: async () => undefined, abort: async () => undefined });
    // Everything appended so far (the sources and the active segment's creation) becomes durable first.
    await this.sync();
    const selected = await selectLive(this.dir, live, sources, this.#segments);
    const { record, order, moves } = await writeCompaction(this.#host(), sources, selected);
    const path = joinPath(this.dir, segmentFileName(record.output));
    const size = this.io.stat(path)?.size ?? 0;
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
    this.#pending = this.#planFor(record, moves);
    return this.#pending;
  }

  #host(): CompactionHost {
    return {
      io: this.io,
      dir: this.dir,
      segments: this.#segments,
      storeId: this.#storeId,
      allocateSegment: () => this.#writer.allocateSegment(),
    };
  }

  #planFor(record: MappingRecord, moves?: Map<string, PayloadRef>): CompactionPlan {
    const finish = async (plan: CompactionPlan, phase: typeof deleteSources): Promise<void> => {
      this.assertWritable();
      await phase(this.#host(), record);
      if (this.#pending === plan) this.#pending = null;
    };
    return new CompactionPlan(record, { commit: (plan) => finish(plan, deleteSources), abort: (plan) => finish(plan, deleteOutput) }, moves);
  }

  /** Bytes of every segment and mapping file this store holds. */
  diskUsage(): number {
    this.assertOpen();
    let total = 0;
    for (const state of this.#segments.values()) total += state.end;
    if (this.#pending?.output != null) total += this.io.stat(joinPath(this.dir, mappingFileName(this.#pending.output)))?.size ?? 0;
    return total;
  }

  /** Every segment, oldest number first. */
  segments(): SegmentInfo[] {
    this.assertOpen();
    return [...this.#segments.values()].sort((left, right) => left.segment - right.segment).map(describeSegment);
  }

  protected storeStats(): PayloadStoreStats {
    return {
      segments: this.#segments.size,
      activeSegment: this.#writer.active.segment,
      diskBytes: this.isClosed ? 0 : this.diskUsage(),
      appendedPayloads: this.#appendedPayloads,
      appendedBytes: this.#writer.writtenBytes,
      reads: this.#reads,
      durableBytes: this.durableThrough,
      compactions: this.#compactions,
      pendingCompaction: this.#pending !== null,
    };
  }

  protected writtenThrough(): number {
    return this.#writer.writtenBytes;
  }

  protected flushToDisk(): Promise<void> {
    return this.#writer.flush();
  }

  protected flushToDiskSync(): void {
    this.#writer.flushSync();
  }

  /** Appends are written to the OS at once: nothing is buffered. */
  protected handToOs(): void {}

  protected override async beforeClose(): Promise<void> {
    await this.#compacting?.catch(() => undefined);
  }

  /**
   * Every segment up to its durable end (read-only: all it sees), under its plain name,
   * and the mapping and identity files. A rotation's new segment that is not durable yet
   * is left out: the copy is the store as of its last flush, whose newest segment is then
   * the active one.
   */
  protected override backupPlan(): BackupPlan {
    const files: { path: string; name: string; length: number }[] = [];
    for (const state of this.#segments.values()) {
      const length = this.readOnly ? state.end : state.durableEnd;
      if (length >= SEGMENT_HEADER_BYTES) files.push({ path: state.path, name: segmentFileName(state.segment), length });
    }
    for (const name of storeFileNames(this.io, this.dir, (name) => name.includes('.seg'))) {
      const path = joinPath(this.dir, name);
      files.push({ path, name, length: this.io.stat(path)?.size ?? 0 });
    }
    return { directory: true, files };
  }

  protected override openCopy(target: string, io: Io): Promise<PayloadStore> {
    return PayloadStore.open(target, { io, readOnly: true });
  }

  protected override async readEverything(): Promise<void> {
    for (const _payload of this.scan());
  }

  protected closeFiles(): void {
    this.#writer.closeAll();
    for (const state of this.#segments.values()) state.view = null;
  }
}

function normalizeSealOption(options: CompactOptions): boolean | SealHandle {
  if (options === null || typeof options !== 'object') throw badArgument(`compact options must be an object, got ${describeType(options)}`);
  const seal = options.seal ?? false;
  if (typeof seal === 'boolean') return seal;
  if (seal !== null && typeof seal === 'object' && Number.isInteger(seal.sealed) && seal.sealed >= 0) return seal;
  throw badArgument(`compact option seal must be a boolean or the handle seal() returned, got ${describeType(seal)}`);
}
