import type { RecoveryAction } from '@keel/core';
import type { BackendAdapter } from './adapter.js';
import { applyFault, armFault, crashPointReached } from './fault-injection.js';
import type { FailedOperationClass, FaultFs } from './fault-fs.js';
import type { FaultKind } from './faults.js';
import { checkIdempotentAndWritable } from './final-check.js';
import { tryOpen } from './recovery-check.js';
import type { Scenario } from './scenario.js';
import { ScenarioState, type Outcome } from './scenario-state.js';
import { checkLatest } from './state-match.js';
import { runStep } from './workload-steps.js';

export { STORE_DIR, type Outcome } from './scenario-state.js';

export interface ScenarioResult {
  fault: FaultKind;
  /** The fault did something: data lost or damaged, an error thrown, a crash point reached. */
  fired: boolean;
  outcome: Outcome;
}

/**
 * Runs one scenario against a backend on a FaultFs and checks every invariant on the way;
 * a broken invariant throws a ConformanceViolation. The phases live in their own modules:
 * the workload's steps (workload-steps.ts), the fault (fault-injection.ts), the checks
 * after every recovery (recovery-check.ts, state-match.ts) and the closing check of
 * idempotence and durability (final-check.ts); they share one ScenarioState.
 */
export class ScenarioRun {
  readonly #state: ScenarioState;

  constructor(adapter: BackendAdapter, scenario: Scenario) {
    this.#state = new ScenarioState(adapter, scenario);
  }

  /** Disk operations the steps before the fault took (sizes the exhaustive enumeration). */
  get mutationsBeforeFault(): number {
    return this.#state.mutationsBeforeFault;
  }

  /** Directory entry operations pending when an armed crash point froze the disk (sizes the subsets enumerated). */
  get entriesPendingAtCrashPoint(): number {
    return this.#state.entriesPendingAtCrashPoint;
  }

  /** Per recovery after the fault, in order: the disk operations its open made (up to its crash point, if one froze it). */
  get recoveryMutations(): readonly number[] {
    return this.#state.recoveryMutations;
  }

  /** What the first recovery after the fault that opened reported doing (null: none opened). */
  get firstRecoveryActions(): readonly RecoveryAction[] | null {
    return this.#state.firstRecoveryActions;
  }

  /** Operations the injection of an injected fault counted while armed: sizes the I/O-error-at-every-index family. */
  get injectionOperations(): number {
    return this.#state.injectionOperations;
  }

  /** The classes of the operations an injected fault failed (write, sync, open, entry). */
  get failedOperations(): readonly FailedOperationClass[] {
    return this.#state.failedOperations;
  }

  /** After an injected failure of a write or sync, the store was seen refusing a write with KEEL_POISONED. */
  get refusalChecked(): boolean {
    return this.#state.refusalChecked;
  }

  /** Writes the write fate of a fault 16 or 17 counted while armed: sizes the every-write enumeration. */
  get writesCounted(): number {
    return this.#state.writesCounted;
  }

  get fs(): FaultFs {
    return this.#state.fs;
  }

  async run(): Promise<ScenarioResult> {
    const run = this.#state;
    const fault = run.scenario.fault;
    try {
      const crashPoint = run.scenario.crashAtMutation ?? (fault.kind === 'lost-entries' ? fault.mutation : undefined);
      if (crashPoint !== undefined) run.fs.crashAtMutation(crashPoint);
      if (run.scenario.armedFromStart === true) armFault(run, fault);
      if (await tryOpen(run)) await checkLatest(run);
      for (const step of run.scenario.steps) {
        if (run.ended || run.fs.frozen) break;
        await runStep(run, step);
      }
      run.mutationsBeforeFault = run.fs.mutations;
      run.faultApplied = true;
      run.pendingRecoveryCrashes.push(...(run.scenario.recoveryCrashes ?? []));
      const fired = run.fs.frozen ? await crashPointReached(run, fault) : run.ended ? false : await applyFault(run, fault);
      if (!run.ended) await checkIdempotentAndWritable(run);
      const outcome = run.outcome;
      run.throwAsyncViolations();
      return { fault: fault.kind, fired, outcome };
    } finally {
      await run.abandon();
    }
  }
}
