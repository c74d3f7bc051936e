import { isKeelError, syncsOnClose, type DurabilityPolicy, type RecoveryPolicy } from '@keel/core';
import type { BackendAdapter, KvOperation, LogRecord, ProtocolName } from './adapter.js';
import type { CrashEffects } from './crash.js';
import { FaultFs, type Injection } from './fault-fs.js';
import type { CrashSpec, Fault, FaultKind } from './faults.js';
import { KvModel, LogModel, MisplacedRecord, payloadId, type Model } from './model.js';
import { KV_KEYS, RECORD_BYTES_MAX, protocolsOf, type Scenario, type Step } from './scenario.js';
import {
  CorruptionReported,
  DiskFrozen,
  REFUSAL_ALLOWED,
  assertSavedTails,
  assertUntouched,
  damageAllowance,
  describeError,
  firedBy,
  isThenable,
  settleMicrotasks,
} from './scenario-rules.js';
import { ConformanceViolation, violation } from './violation.js';

/** Where every store lives on its FaultFs. */
export const STORE_DIR = '/store';

export type Outcome = 'recovered' | 'refused' | 'salvaged' | 'undetectable';

export interface ScenarioResult {
  fault: FaultKind;
  /** The fault did something: data lost or damaged, an error thrown, a crash point reached. */
  fired: boolean;
  outcome: Outcome;
}

interface RecoverOptions {
  allowance: number;
  refusalAllowed: boolean;
  /** A whole record from elsewhere in place of one is undetectable for this backend (see BackendSupports). */
  misplacedUndetectable?: boolean;
  /** Open with a crash point armed at this mutation (fault 14). */
  crashAtMutation?: number;
}

/** Where a retention crashed as a protocol cuts the log: late, so that it drops several segments at once. */
const RETENTION_PROTOCOL_FRACTION = 0.9;

/**
 * Runs one scenario against a backend on a FaultFs and checks every invariant on the way;
 * a broken invariant throws a ConformanceViolation.
 */
export class ScenarioRun {
  readonly #adapter: BackendAdapter;
  readonly #scenario: Scenario;
  readonly #model: Model;
  #fs = new FaultFs();
  #store: unknown = null;
  /** Incremented at every crash and close: late acknowledgements of an old store are ignored. */
  #epoch = 0;
  #injection: Injection | null = null;
  #firedAtOpen = 0;
  #ended = false;
  #outcome: Outcome = 'recovered';
  #unsettled = false;
  #sessionFailed = false;
  readonly #asyncViolations: string[] = [];

  constructor(adapter: BackendAdapter, scenario: Scenario) {
    this.#adapter = adapter;
    this.#scenario = scenario;
    this.#model = adapter.kind === 'log' ? new LogModel() : new KvModel();
  }

  /** Disk operations the steps before the fault took (sizes the exhaustive enumeration). */
  mutationsBeforeFault = 0;
  /** Directory entry operations pending when an armed crash point froze the disk (sizes the subsets enumerated). */
  entriesPendingAtCrashPoint = 0;

  get fs(): FaultFs {
    return this.#fs;
  }

  async run(): Promise<ScenarioResult> {
    const fault = this.#scenario.fault;
    try {
      const crashPoint = this.#scenario.crashAtMutation ?? (fault.kind === 'lost-entries' ? fault.mutation : undefined);
      if (crashPoint !== undefined) this.#fs.crashAtMutation(crashPoint);
      if (await this.#tryOpen()) await this.#checkLatest();
      for (const step of this.#scenario.steps) {
        if (this.#ended || this.#fs.frozen) break;
        await this.#step(step);
      }
      this.mutationsBeforeFault = this.#fs.mutations;
      const fired = this.#fs.frozen ? await this.#crashPointReached(fault) : this.#ended ? false : await this.#applyFault(fault);
      if (!this.#ended) await this.#finish();
      const outcome = this.#outcome;
      this.#throwAsyncViolations();
      return { fault: fault.kind, fired, outcome };
    } finally {
      await this.#abandon();
    }
  }

  // ---- steps ----

  async #step(step: Step): Promise<void> {
    if (step.type === 'crash') {
      this.#crash(step.crash);
      // Holes before later data (torn, filled, reordered writes) may be refused; a plain loss may not.
      const mode = step.crash.data.mode;
      await this.#recover({ allowance: 0, refusalAllowed: mode === 'fill' || mode === 'torn' || mode === 'subset' || mode === 'stale' });
      return;
    }
    if (this.#store === null) {
      // An injected failure left no store open: try again, as a caller would.
      if (!(await this.#tryOpen())) return;
    }
    switch (step.type) {
      case 'write':
        this.#write([step.size], [step.key], [step.remove], false);
        break;
      case 'batch':
        this.#write(step.sizes, step.keys, step.removes, true);
        break;
      case 'sync':
        await this.#sync();
        break;
      case 'reopen':
        await this.#reopen();
        break;
      case 'protocol':
        await this.#protocol(step.name);
        break;
      case 'retention':
        await this.#retention(step.fraction);
        break;
    }
    this.#throwAsyncViolations();
    if (this.#store === null || this.#failed() || this.#sessionFailed || this.#fs.frozen) return;
    try {
      await this.#checkLatest();
    } catch (error) {
      if (!(error instanceof DiskFrozen)) throw error;
    }
  }

  #write(sizes: readonly number[], keys: readonly number[], removes: readonly boolean[], batch: boolean): void {
    const failedBefore = this.#failed();
    let result: unknown;
    try {
      result = this.#model.kind === 'log' ? this.#appendLog(this.#model, sizes, batch) : this.#applyKv(this.#model, sizes, keys, removes, batch);
    } catch (error) {
      this.#expectFailure(error, batch ? 'batch' : 'write');
      return;
    }
    if (isThenable(result)) this.#trackAck(result, this.#model.size, failedBefore, 'write');
  }

  #appendLog(model: LogModel, sizes: readonly number[], batch: boolean): unknown {
    const adapter = this.#adapter as Extract<BackendAdapter, { kind: 'log' }>;
    const payloads = sizes.map((size) => model.payload(size));
    // Counted as written before the call: a write that throws may still have reached the disk.
    model.add(payloads);
    if (batch && adapter.appendBatch) return adapter.appendBatch(this.#store, payloads);
    let last: unknown;
    for (const payload of payloads) last = adapter.append(this.#store, payload);
    return last;
  }

  #applyKv(model: KvModel, sizes: readonly number[], keys: readonly number[], removes: readonly boolean[], batch: boolean): unknown {
    const adapter = this.#adapter as Extract<BackendAdapter, { kind: 'kv' }>;
    const operations: KvOperation[] = sizes.map((size, i) => {
      const key = KV_KEYS[keys[i] ?? 0] as string;
      return removes[i] ? { type: 'del', key } : { type: 'put', key, value: model.value(size) };
    });
    if (batch && adapter.batch) {
      model.add(operations);
      return adapter.batch(this.#store, operations);
    }
    let last: unknown;
    for (const operation of operations) {
      model.add([operation]);
      last = operation.type === 'put' ? adapter.put(this.#store, operation.key, operation.value) : adapter.delete(this.#store, operation.key);
    }
    return last;
  }

  async #sync(): Promise<void> {
    const failedBefore = this.#failed();
    const upTo = this.#model.size;
    try {
      await this.#adapter.sync(this.#store);
    } catch (error) {
      this.#expectFailure(error, 'sync');
      return;
    }
    if (failedBefore) violation('sync() resolved after a write or sync had failed: nothing after a failure may claim durability');
    this.#model.ack(upTo);
  }

  async #reopen(): Promise<void> {
    await this.#close();
    await this.#tryOpen();
  }

  async #close(): Promise<void> {
    const store = this.#store;
    if (store === null) return;
    const failedBefore = this.#failed();
    const upTo = this.#model.size;
    this.#store = null;
    this.#epoch++;
    try {
      await this.#adapter.close(store);
    } catch (error) {
      this.#expectFailure(error, 'close');
      return;
    }
    // close() ends with a final sync: when it succeeds, everything written is durable
    // (unless something failed before: a poisoned store closes without syncing; and
    // under durability 'none' close never syncs).
    if (!failedBefore && !this.#failed() && !this.#sessionFailed && syncsOnClose(durabilityPolicy(this.#scenario.durability))) this.#model.ack(upTo);
  }

  async #protocol(name: ProtocolName): Promise<void> {
    const run = this.#adapter.protocols?.[name];
    if (run === undefined) return;
    try {
      await run(this.#store);
    } catch (error) {
      this.#expectFailure(error, name);
    }
  }

  async #retention(fraction: number): Promise<void> {
    const adapter = this.#adapter;
    if (adapter.kind !== 'log' || adapter.deleteBefore === undefined || !(this.#model instanceof LogModel)) return;
    const records = await this.#readLog();
    if (records === null || records.length === 0) return;
    const chosen = records[Math.min(records.length - 1, Math.floor(fraction * records.length))] as LogRecord;
    const index = this.#model.records.findIndex((record) => record.id === payloadId(chosen.payload));
    // Asked is enough: a retention that fails part-way may still have dropped segments.
    if (index > this.#model.floor) this.#model.floor = index;
    try {
      await adapter.deleteBefore(this.#store, chosen.position);
    } catch (error) {
      this.#expectFailure(error, 'deleteBefore');
    }
  }

  // ---- faults ----

  async #applyFault(fault: Fault): Promise<boolean> {
    switch (fault.kind) {
      case 'protocol-crash-point':
      case 'kv-maintenance-crash':
        return this.#protocolCrash(fault.kind, fault.mutation, fault.choice, fault.crash);
      case 'fsync-failure':
      case 'io-error':
        return this.#injected(fault.kind, fault.injection, fault.crash);
      case 'group-commit-crash':
        return this.#groupCommitCrash(fault.writers, fault.released, fault.crash);
      case 'recovery-crash':
        return this.#recoveryCrash(fault.first, fault.mutation, fault.crash);
      default: {
        this.#fs.crashAtMutation(Number.POSITIVE_INFINITY);
        await this.#runTailUnsynced();
        const effects = this.#crash(fault.crash);
        const fired = firedBy(fault.kind, effects);
        await this.#recover({ allowance: damageAllowance(fault), refusalAllowed: REFUSAL_ALLOWED.has(fault.kind), misplacedUndetectable: (fault.kind === 'misdirected-write' || fault.kind === 'stale-tail') && this.#adapter.supports.positionFreeFrames === true });
        return fired;
      }
    }
  }

  /** A crash point armed for the whole scenario was reached: crash there and recover. */
  async #crashPointReached(fault: Fault): Promise<boolean> {
    this.entriesPendingAtCrashPoint = this.#fs.pendingEntryOperations;
    this.#fs.crashAtMutation(Number.POSITIVE_INFINITY);
    const effects = this.#crash('crash' in fault ? fault.crash : { seed: 0, data: { mode: 'lose-all' }, entries: 'keep-all' });
    await this.#recover({ allowance: 0, refusalAllowed: false });
    return fault.kind === 'lost-entries' ? effects.entriesLost : true;
  }

  async #protocolCrash(kind: FaultKind, mutation: number, choice: number, crash: CrashSpec): Promise<boolean> {
    const protocols: (() => Promise<void>)[] = protocolsOf(this.#adapter)
      .filter((name) => kind !== 'kv-maintenance-crash' || name === 'compact' || name === 'snapshot')
      .map((name) => () => this.#protocol(name));
    // Retention is a protocol too: several unlinks, each to be made durable before the next.
    const adapter = this.#adapter;
    if (kind === 'protocol-crash-point' && adapter.kind === 'log' && adapter.supports.retention && adapter.deleteBefore) {
      protocols.push(() => this.#retention(RETENTION_PROTOCOL_FRACTION));
    }
    this.#fs.crashAtMutation(mutation);
    try {
      // Without multi-file protocols, close + open is the protocol: final sync, lock, recovery.
      if (protocols.length === 0) await this.#reopen();
      else await (protocols[choice % protocols.length] as () => Promise<void>)();
    } catch (error) {
      if (!(error instanceof ConformanceViolation) || !this.#fs.frozen) throw error;
    }
    const fired = this.#fs.frozen;
    this.#fs.crashAtMutation(Number.POSITIVE_INFINITY);
    this.#crash(crash);
    await this.#recover({ allowance: 0, refusalAllowed: false });
    return fired;
  }

  async #injected(kind: FaultKind, injection: Injection, crash: CrashSpec): Promise<boolean> {
    this.#injection = injection;
    this.#firedAtOpen = this.#fs.injectionsFired;
    this.#fs.inject(injection);
    for (const step of this.#scenario.tail) {
      if (this.#unsettled) break;
      await this.#step(step);
    }
    if (this.#store !== null && this.#failed()) {
      // Poisoned: one more write and sync must not claim durability.
      this.#write([8], [0], [false], false);
      await this.#sync();
    }
    const fired = this.#fs.injectionsFired > 0;
    this.#fs.inject(null);
    this.#injection = null;
    this.#crash(crash);
    await this.#recover({ allowance: 0, refusalAllowed: REFUSAL_ALLOWED.has(kind) });
    return fired;
  }

  async #groupCommitCrash(writers: number, released: number, crash: CrashSpec): Promise<boolean> {
    if (this.#store === null) return false;
    this.#fs.holdSyncs();
    let waiting = 0;
    const epoch = this.#epoch;
    for (let i = 0; i < writers; i++) {
      this.#write([8 + i], [i % KV_KEYS.length], [false], false);
      const upTo = this.#model.size;
      waiting++;
      this.#adapter.sync(this.#store).then(
        () => {
          waiting--;
          if (this.#epoch === epoch) this.#model.ack(upTo);
        },
        () => undefined,
      );
    }
    await settleMicrotasks();
    this.#fs.releaseSyncs(released);
    await settleMicrotasks();
    const fired = this.#fs.heldSyncs > 0 && waiting >= 2;
    this.#crash(crash);
    await this.#recover({ allowance: 0, refusalAllowed: false });
    return fired;
  }

  /** The tail, then one more write left unsynced: a crash then has unsynced data to work on. */
  async #runTailUnsynced(): Promise<void> {
    for (const step of this.#scenario.tail) await this.#step(step);
    if (this.#store === null) return;
    this.#write([RECORD_BYTES_MAX], [1], [false], false);
    this.#throwAsyncViolations();
  }

  async #recoveryCrash(first: CrashSpec, mutation: number, crash: CrashSpec): Promise<boolean> {
    await this.#runTailUnsynced();
    this.#crash(first);
    const fired = await this.#recover({ allowance: 0, refusalAllowed: false, crashAtMutation: mutation });
    if (!fired) return false;
    this.#crash(crash);
    await this.#recover({ allowance: 0, refusalAllowed: false });
    return true;
  }

  // ---- crash and recovery ----

  #crash(spec: CrashSpec): CrashEffects {
    this.#abandonStore();
    const isDerived = this.#adapter.isDerivedFile?.bind(this.#adapter);
    const { fs, effects } = this.#fs.crash(isDerived ? { ...spec, isDerived } : spec);
    this.#fs = fs;
    return effects;
  }

  /**
   * Opens after a crash and checks what it finds. Returns true when an armed crash point
   * froze the disk during recovery (the caller crashes again).
   */
  async #recover(options: RecoverOptions): Promise<boolean> {
    const before = this.#fs.files();
    if (options.crashAtMutation !== undefined) this.#fs.crashAtMutation(options.crashAtMutation);
    try {
      await this.#open('truncate-tail');
    } catch (error) {
      if (this.#fs.frozen) return true;
      if (error instanceof ConformanceViolation) throw error;
      await this.#refused(error, before, options);
      return false;
    } finally {
      this.#fs.crashAtMutation(Number.POSITIVE_INFINITY);
    }
    assertSavedTails(this.#adapter.recovery(this.#store), before, this.#fs.files());
    try {
      await this.#checkRecovered(options.allowance, options.refusalAllowed, options.misplacedUndetectable === true);
    } catch (error) {
      if (error instanceof DiskFrozen) return true;
      throw error;
    }
    return false;
  }

  async #refused(error: unknown, before: Map<string, Uint8Array>, options: RecoverOptions): Promise<void> {
    if (!isKeelError(error)) violation(`open after a crash threw a non-KeelError: ${String(error)}`);
    if (error.code !== 'KEEL_CORRUPT' || !options.refusalAllowed) {
      violation(`open after a crash failed with ${error.code} (${error.message}); a crash state without damage must open`);
    }
    if (typeof error.offset !== 'number') violation(`KEEL_CORRUPT on open carries no byte offset (${error.message})`);
    assertUntouched(before, this.#fs.files());
    this.#ended = true;
    this.#outcome = 'refused';
    if (!this.#adapter.supports.salvage) return;
    try {
      await this.#open('salvage');
    } catch (salvageError) {
      if (isKeelError(salvageError, 'KEEL_CORRUPT')) return;
      throw salvageError;
    }
    this.#ended = false;
    this.#outcome = 'salvaged';
    // Salvage keeps the valid prefix: with damage it may lose acknowledged data, never invent any.
    // A misplaced whole frame in that prefix is as undetectable as it is on a plain open.
    await this.#checkRecovered(options.allowance > 0 ? Number.POSITIVE_INFINITY : 0, true, options.misplacedUndetectable === true);
  }

  async #checkRecovered(allowance: number, refusalAllowed: boolean, misplacedUndetectable = false): Promise<void> {
    const report = this.#adapter.recovery(this.#store);
    let kept: number;
    try {
      kept = await this.#matchState(allowance, refusalAllowed);
    } catch (error) {
      if (misplacedUndetectable && error instanceof MisplacedRecord) {
        this.#ended = true;
        this.#outcome = 'undetectable';
        return;
      }
      if (!(error instanceof CorruptionReported)) throw error;
      // Damage open did not check (the middle of a sealed segment) is reported by the read.
      this.#ended = true;
      this.#outcome = 'refused';
      return;
    }
    if (kept < this.#model.acked && report.tailState === 'clean-end' && report.discardedBytes === 0 && report.actions.length === 0) {
      violation(`recovery lost acknowledged data (kept ${kept} of ${this.#model.acked}) and reported a clean open`);
    }
    this.#model.settle(kept);
  }

  /** After the fault: recovery is idempotent, and new writes after it are durable. */
  async #finish(): Promise<void> {
    const expected = this.#model.size;
    await this.#close();
    await this.#open('truncate-tail');
    const report = this.#adapter.recovery(this.#store);
    if (report.discardedBytes !== 0) violation(`a second open discarded ${report.discardedBytes} more bytes: recovery is not idempotent`);
    const kept = await this.#matchState(0);
    if (kept !== expected) violation(`a second open found ${kept} of ${expected} operations: recovery is not idempotent`);
    for (let i = 0; i < 3; i++) this.#write([4 + 9 * i], [i], [false], false);
    await this.#sync();
    this.#write([16], [3], [false], false);
    this.#crash({ seed: expected, data: { mode: 'byte-prefix' }, entries: 'keep-all' });
    await this.#recover({ allowance: 0, refusalAllowed: false });
  }

  // ---- helpers ----

  async #open(recovery: RecoveryPolicy): Promise<void> {
    const durability = durabilityPolicy(this.#scenario.durability);
    this.#store = await this.#adapter.open(this.#fs, STORE_DIR, { durability, recovery });
    this.#firedAtOpen = this.#fs.injectionsFired;
    this.#sessionFailed = false;
  }

  /** Opens after an injected failure; returns false when the injection still refuses it. */
  async #tryOpen(): Promise<boolean> {
    try {
      await this.#open('truncate-tail');
    } catch (error) {
      if (this.#fs.frozen) return false;
      if (this.#fs.injectionsFired === 0 || !isKeelError(error)) violation(`open failed without an injected fault: ${describeError(error)}`);
      return false;
    }
    try {
      // No crash happened: what the store shows may still be only in the page cache.
      const acked = this.#model.acked;
      const kept = await this.#matchState(0);
      this.#model.settle(kept);
      this.#model.acked = Math.min(acked, kept);
    } catch (error) {
      if (error instanceof DiskFrozen) return false;
      if (this.#injection === null || error instanceof ConformanceViolation) throw error;
      // A read failed while an injection is armed: the model cannot settle, so stop here.
      this.#unsettled = true;
    }
    return true;
  }

  /** A write or sync failed in this open session: the store must be poisoned. */
  #failed(): boolean {
    const operation = this.#injection?.operation;
    return (operation === 'write' || operation === 'sync') && this.#fs.injectionsFired > this.#firedAtOpen;
  }

  #expectFailure(error: unknown, what: string): void {
    if (error instanceof ConformanceViolation) throw error;
    if (this.#fs.frozen) return;
    if (this.#fs.injectionsFired === 0) violation(`${what} threw without any injected fault: ${describeError(error)}`);
    if (!isKeelError(error)) violation(`${what} failed with a non-KeelError: ${describeError(error)}`);
    // Something failed (a read inside compaction, the open of a new segment inside a
    // write): the store may have poisoned itself, so close() no longer proves a sync.
    this.#sessionFailed = true;
  }

  #trackAck(ack: PromiseLike<unknown>, upTo: number, failedBefore: boolean, what: string): void {
    const epoch = this.#epoch;
    ack.then(
      () => {
        if (this.#epoch !== epoch) return;
        if (failedBefore) this.#asyncViolations.push(`${what} was acknowledged durable after a failed write or sync`);
        this.#model.ack(upTo);
      },
      (error: unknown) => {
        if (this.#epoch === epoch && !this.#fs.frozen && this.#fs.injectionsFired === 0) {
          this.#asyncViolations.push(`${what} acknowledgement rejected without any injected fault: ${describeError(error)}`);
        }
      },
    );
  }

  #throwAsyncViolations(): void {
    if (this.#asyncViolations.length > 0) violation(this.#asyncViolations.join('; '));
  }

  async #readLog(): Promise<LogRecord[] | null> {
    if (this.#adapter.kind !== 'log') return null;
    try {
      return await this.#adapter.read(this.#store);
    } catch (error) {
      this.#expectFailure(error, 'read');
      return null;
    }
  }

  /** Reads the whole store and matches it against the model; a read error is a violation. */
  async #matchState(allowance: number, reportable = false): Promise<number> {
    try {
      if (this.#adapter.kind === 'log') return (this.#model as LogModel).match(await this.#adapter.read(this.#store), allowance);
      return (this.#model as KvModel).match(await this.#adapter.read(this.#store), allowance);
    } catch (error) {
      // A read may write (a journal hands its buffer to the OS first) and reach a crash point.
      if (this.#fs.frozen) throw new DiskFrozen();
      if (error instanceof ConformanceViolation || (this.#injection !== null && isKeelError(error))) throw error;
      if (reportable && isKeelError(error, 'KEEL_CORRUPT') && typeof error.offset === 'number') throw new CorruptionReported();
      violation(`reading the store after open failed: ${describeError(error)}`);
    }
  }

  /** Without a crash a read sees everything written, acknowledged or not. */
  async #checkLatest(): Promise<void> {
    // While an injection is armed a read may fail; the recovery after it checks everything.
    if (this.#injection !== null) return;
    const model = this.#model;
    const saved = model.acked;
    model.ack(model.size);
    try {
      const kept = await this.#matchState(0);
      if (kept !== model.size) violation(`a read shows ${kept} of ${model.size} operations written so far`);
    } finally {
      model.acked = saved;
    }
  }

  #abandonStore(): void {
    this.#store = null;
    this.#epoch++;
  }

  async #abandon(): Promise<void> {
    const store = this.#store;
    this.#abandonStore();
    if (store !== null) await this.#adapter.close(store).catch(() => undefined);
  }
}

/** Writes between the automatic flushes of durability every-n in the scenarios. */
const EVERY_N_WRITES = 3;

function durabilityPolicy(mode: Scenario['durability']): DurabilityPolicy {
  return mode === 'every-n' ? { mode, n: EVERY_N_WRITES } : { mode };
}
