import { isKeelError } from '@keel/core';
import type { CrashEffects } from './crash.js';
import type { CrashSpec } from './faults.js';
import { MisplacedRecord } from './model.js';
import type { ScenarioState } from './scenario-state.js';
import { CorruptionReported, DiskFrozen, assertSavedTails, assertUntouched, describeError } from './scenario-rules.js';
import { matchState } from './state-match.js';
import { ConformanceViolation, violation } from './violation.js';

/** What a recovery after a fault may do, and how it is to be opened. */
export interface RecoverOptions {
  /** Acknowledged operations the fault may take with it (damage), counted back from the acknowledged end. */
  allowance: number;
  /** The fault can leave a hole before later data or damage: KEEL_CORRUPT (files untouched) is acceptable. */
  refusalAllowed: boolean;
  /** A whole record from elsewhere in place of one is undetectable for this backend (see BackendSupports). */
  misplacedUndetectable?: boolean;
  /** Open with a crash point armed at this mutation (fault 14). */
  crashAtMutation?: number;
}

/** The process dies and the disk is left as `spec` says: the store is dropped, the FaultFs replaced. */
export function crash(run: ScenarioState, spec: CrashSpec): CrashEffects {
  run.abandonStore();
  const isDerived = run.adapter.isDerivedFile?.bind(run.adapter);
  const { fs, effects } = run.fs.crash(isDerived ? { ...spec, isDerived } : spec);
  run.fs = fs;
  return effects;
}

/**
 * Opens after a crash and checks what it finds. Returns true when an armed crash point
 * froze the disk during recovery (the caller crashes again). A crash the scenario plans
 * inside this recovery (Scenario.recoveryCrashes) is taken here: the disk is crashed at
 * that point and recovered again, as often as planned.
 */
export async function recover(run: ScenarioState, options: RecoverOptions): Promise<boolean> {
  const planned = options.crashAtMutation === undefined ? run.pendingRecoveryCrashes.shift() : undefined;
  const frozen = await recoverOnce(run, options, options.crashAtMutation ?? planned?.mutation);
  if (!frozen || planned === undefined) return frozen;
  crash(run, planned.crash);
  return recover(run, options);
}

async function recoverOnce(run: ScenarioState, options: RecoverOptions, crashAtMutation: number | undefined): Promise<boolean> {
  const before = run.fs.files();
  if (crashAtMutation !== undefined) run.fs.crashAtMutation(crashAtMutation);
  try {
    await run.open('truncate-tail');
  } catch (error) {
    if (run.fs.frozen) {
      measureRecovery(run);
      return true;
    }
    if (error instanceof ConformanceViolation) throw error;
    await refused(run, error, before, options);
    return false;
  } finally {
    run.fs.crashAtMutation(Number.POSITIVE_INFINITY);
  }
  measureRecovery(run);
  assertSavedTails(run.adapter.recovery(run.store), before, run.fs.files());
  try {
    await checkRecovered(run, options.allowance, options.refusalAllowed, options.misplacedUndetectable === true);
  } catch (error) {
    if (error instanceof DiskFrozen) return true;
    throw error;
  }
  return false;
}

/** Records how many disk operations a recovery after the fault made, and what the first one that opened did: it sizes the crash points of the next run. */
function measureRecovery(run: ScenarioState): void {
  if (!run.faultApplied) return;
  run.recoveryMutations.push(run.fs.mutations);
  if (run.firstRecoveryActions === null && !run.fs.frozen) run.firstRecoveryActions = [...run.adapter.recovery(run.store).actions];
}

/**
 * Open refused: only KEEL_CORRUPT with an offset, only where the fault allows it, and
 * with every file as it was. A salvage open (where supported) must then keep a valid
 * prefix and invent nothing.
 */
async function refused(run: ScenarioState, error: unknown, before: Map<string, Uint8Array>, options: RecoverOptions): Promise<void> {
  if (!isKeelError(error)) violation(`open after a crash threw a non-KeelError: ${String(error)}`);
  if (error.code !== 'KEEL_CORRUPT' || !options.refusalAllowed) {
    violation(`open after a crash failed with ${error.code} (${error.message}); a crash state without damage must open`);
  }
  if (typeof error.offset !== 'number') violation(`KEEL_CORRUPT on open carries no byte offset (${error.message})`);
  assertUntouched(before, run.fs.files());
  run.ended = true;
  run.outcome = 'refused';
  if (!run.adapter.supports.salvage) return;
  try {
    await run.open('salvage');
  } catch (salvageError) {
    if (isKeelError(salvageError, 'KEEL_CORRUPT')) return;
    throw salvageError;
  }
  run.ended = false;
  run.outcome = 'salvaged';
  // Salvage keeps the valid prefix: with damage it may lose acknowledged data, never invent any.
  // A misplaced whole frame in that prefix is as undetectable as it is on a plain open.
  await checkRecovered(run, options.allowance > 0 ? Number.POSITIVE_INFINITY : 0, true, options.misplacedUndetectable === true);
}

/** The recovered store against the model: a loss of acknowledged data is a violation, and never silent. */
export async function checkRecovered(run: ScenarioState, allowance: number, refusalAllowed: boolean, misplacedUndetectable = false): Promise<void> {
  const report = run.adapter.recovery(run.store);
  let kept: number;
  try {
    kept = await matchState(run, allowance, refusalAllowed);
  } catch (error) {
    if (misplacedUndetectable && error instanceof MisplacedRecord) {
      run.ended = true;
      run.outcome = 'undetectable';
      return;
    }
    if (!(error instanceof CorruptionReported)) throw error;
    // Damage open did not check (the middle of a sealed segment) is reported by the read.
    run.ended = true;
    run.outcome = 'refused';
    return;
  }
  if (kept < run.model.acked && report.tailState === 'clean-end' && report.discardedBytes === 0 && report.actions.length === 0) {
    violation(`recovery lost acknowledged data (kept ${kept} of ${run.model.acked}) and reported a clean open`);
  }
  run.model.settle(kept);
}

/**
 * Opens without a crash before it (the first open, a reopen, or again after an injected
 * failure); returns false when the injection still refuses it.
 */
export async function tryOpen(run: ScenarioState): Promise<boolean> {
  try {
    await run.open('truncate-tail');
  } catch (error) {
    if (run.fs.frozen) return false;
    if (run.fs.injectionsFired === 0 || !isKeelError(error)) violation(`open failed without an injected fault: ${describeError(error)}`);
    return false;
  }
  try {
    // No crash happened: what the store shows may still be only in the page cache.
    const acked = run.model.acked;
    const kept = await matchState(run, 0);
    run.model.settle(kept);
    run.model.acked = Math.min(acked, kept);
  } catch (error) {
    if (error instanceof DiskFrozen) return false;
    if (run.injection === null || error instanceof ConformanceViolation) throw error;
    // A read failed while an injection is armed: the model cannot settle, so stop here.
    run.unsettled = true;
  }
  return true;
}
