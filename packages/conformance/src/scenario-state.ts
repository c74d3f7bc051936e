import { isKeelError, type DurabilityPolicy, type RecoveryAction, type RecoveryPolicy } from '@keel/core';
import type { BackendAdapter } from './adapter.js';
import { FaultFs, type FailedOperationClass, type Injection } from './fault-fs.js';
import { KvModel, LogModel, type Model } from './model.js';
import type { RecoveryCrash, Scenario } from './scenario.js';
import { describeError } from './scenario-rules.js';
import { ANCHOR_BYTES_MIN } from './write-fate-damage.js';
import { ConformanceViolation, violation } from './violation.js';

/** Where every store lives on its FaultFs. */
export const STORE_DIR = '/store';

export type Outcome = 'recovered' | 'refused' | 'salvaged' | 'undetectable';

/** Writes between the automatic flushes of durability every-n in the scenarios. */
const EVERY_N_WRITES = 3;

export function durabilityPolicy(mode: Scenario['durability']): DurabilityPolicy {
  return mode === 'every-n' ? { mode, n: EVERY_N_WRITES } : { mode };
}

/**
 * Everything one scenario run shares between its parts: the disk, the open store, the
 * model of what was written and acknowledged, and the bookkeeping of the current open
 * session (which failures happened in it, which acknowledgements still count). The
 * stepping, fault-injection and recovery-checking modules each read and change it; it
 * lives apart so that none of them has to own the others.
 */
export class ScenarioState {
  readonly adapter: BackendAdapter;
  readonly scenario: Scenario;
  readonly model: Model;
  fs = new FaultFs();
  store: unknown = null;
  /** Incremented at every crash and close: late acknowledgements of an old store are ignored. */
  epoch = 0;
  /** The injection armed now (faults 9 and 10), or null. */
  injection: Injection | null = null;
  /** Injections that had fired when the current session opened: later ones are this session's. */
  firedAtOpen = 0;
  /** The store was refused (or a damage read was refused): nothing more to check. */
  ended = false;
  outcome: Outcome = 'recovered';
  /** A read failed while an injection was armed: the model cannot settle, so the tail stops. */
  unsettled = false;
  /** Something failed in this session (a read inside compaction, say): close() no longer proves a sync. */
  sessionFailed = false;
  readonly asyncViolations: string[] = [];
  /** Disk operations the steps before the fault took (sizes the exhaustive enumeration). */
  mutationsBeforeFault = 0;
  /** Directory entry operations pending when an armed crash point froze the disk (sizes the subsets enumerated). */
  entriesPendingAtCrashPoint = 0;
  /** Operations an injection counted while it was armed (how many it could have failed). */
  injectionOperations = 0;
  /** After an injected failure of a write or sync, the store was seen refusing a write with KEEL_POISONED. */
  refusalChecked = false;
  /** The same, in the current open session. */
  refusalCheckedInSession = false;
  /** The classes of the operations the injection failed. */
  failedOperations: FailedOperationClass[] = [];
  /** Writes a write fate counted while armed (how many it could have hit). */
  writesCounted = 0;
  /** A write fate (faults 16 and 17) was armed before the first open. */
  writeFateArmed = false;
  /** The fault has been applied: recoveries from here on are measured. */
  faultApplied = false;
  /** Crash points still to be armed in the recoveries after the fault (Scenario.recoveryCrashes). */
  readonly pendingRecoveryCrashes: RecoveryCrash[] = [];
  /** Per recovery after the fault, in order: the disk operations its open made (up to its crash point, if one froze it). */
  readonly recoveryMutations: number[] = [];
  /** What the first recovery after the fault that opened reported doing. */
  firstRecoveryActions: RecoveryAction[] | null = null;

  constructor(adapter: BackendAdapter, scenario: Scenario) {
    this.adapter = adapter;
    this.scenario = scenario;
    this.model = adapter.kind === 'log' ? new LogModel() : new KvModel();
    // A lost or misplaced write is mapped to the records it damaged by their bytes: none may be too small to find.
    if (scenario.fault.kind === 'lost-write' || scenario.fault.kind === 'misplaced-write') this.model.payloadBytesMin = ANCHOR_BYTES_MIN;
  }

  async open(recovery: RecoveryPolicy): Promise<void> {
    const durability = durabilityPolicy(this.scenario.durability);
    this.store = await this.adapter.open(this.fs, STORE_DIR, { durability, recovery });
    this.firedAtOpen = this.fs.injectionsFired;
    this.sessionFailed = false;
    this.refusalCheckedInSession = false;
  }

  /** A write or sync (a datasync, an fsync, a directory sync, a truncate) failed in this open session: the store must be poisoned. */
  failed(): boolean {
    if (this.injection === null) return false;
    return this.fs.failedClasses.slice(this.firedAtOpen).some((failed) => failed === 'write' || failed === 'sync');
  }

  /** A call threw: only an injected fault or a frozen disk may explain it, and only as a KeelError. */
  expectFailure(error: unknown, what: string): void {
    if (error instanceof ConformanceViolation) throw error;
    if (this.fs.frozen) return;
    if (this.fs.injectionsFired === 0) violation(`${what} threw without any injected fault: ${describeError(error)}`);
    if (!isKeelError(error)) violation(`${what} failed with a non-KeelError: ${describeError(error)}`);
    // Something failed (a read inside compaction, the open of a new segment inside a
    // write): the store may have poisoned itself, so close() no longer proves a sync.
    this.sessionFailed = true;
  }

  /** An every-write acknowledgement: when it resolves in this session, records up to `upTo` are durable. */
  trackAck(ack: PromiseLike<unknown>, upTo: number, failedBefore: boolean, what: string): void {
    const epoch = this.epoch;
    ack.then(
      () => {
        if (this.epoch !== epoch) return;
        if (failedBefore) this.asyncViolations.push(`${what} was acknowledged durable after a failed write or sync`);
        this.model.ack(upTo);
      },
      (error: unknown) => {
        if (this.epoch === epoch && !this.fs.frozen && this.fs.injectionsFired === 0) {
          this.asyncViolations.push(`${what} acknowledgement rejected without any injected fault: ${describeError(error)}`);
        }
      },
    );
  }

  /** Violations seen in acknowledgement callbacks surface at the next synchronous check. */
  throwAsyncViolations(): void {
    if (this.asyncViolations.length > 0) violation(this.asyncViolations.join('; '));
  }

  /** The process is gone: the store is dropped without a close, its late acknowledgements ignored. */
  abandonStore(): void {
    this.store = null;
    this.epoch++;
  }

  /** The run is over, however it ended: close what is still open, ignoring its errors. */
  async abandon(): Promise<void> {
    const store = this.store;
    this.abandonStore();
    if (store !== null) await this.adapter.close(store).catch(() => undefined);
  }
}
