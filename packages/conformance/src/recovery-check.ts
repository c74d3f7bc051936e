import { isKeelError } from '@keel/core';
import type { CrashEffects } from './crash.js';
import type { CrashSpec } from './faults.js';
import { LogModel, MisplacedRecord } from './model.js';
import type { ScenarioState } from './scenario-state.js';
import { CorruptionReported, DiskFrozen, assertSavedTails, assertUntouched, describeError } from './scenario-rules.js';
import { matchState } from './state-match.js';
import { ConformanceViolation, violation } from './violation.js';
import type { TouchedOperations } from './write-fate-damage.js';

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
  /**
   * A write was lost or misplaced (faults 16 and 17): the operations it touched (null:
   * none) may be missing, but only where nothing acknowledged follows them.
   */
  writeDamage?: TouchedOperations | null;
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
    await checkRecovered(run, options.allowance, options.refusalAllowed, options.misplacedUndetectable === true, options.writeDamage);
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
  const damaged = options.allowance > 0 || options.writeDamage !== undefined;
  await checkRecovered(run, damaged ? Number.POSITIVE_INFINITY : 0, true, options.misplacedUndetectable === true);
}

/** The recovered store against the model: a loss of acknowledged data is a violation, and never silent. */
export async function checkRecovered(
  run: ScenarioState,
  allowance: number,
  refusalAllowed: boolean,
  misplacedUndetectable = false,
  writeDamage?: TouchedOperations | null,
): Promise<void> {
  const report = run.adapter.recovery(run.store);
  let kept: number;
  try {
    if (writeDamage === undefined) kept = await matchState(run, allowance, refusalAllowed);
    // Where a whole frame in another's place is undetectable, a record missing before later ones is that misplacement, not a hole to allow.
    else kept = await matchState(run, Number.POSITIVE_INFINITY, refusalAllowed, misplacedUndetectable ? undefined : (writeDamage ?? undefined));
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
  if (writeDamage !== undefined) kept = checkWriteDamageLoss(run, kept, writeDamage);
  else if (kept < run.model.acked && report.tailState === 'clean-end' && report.discardedBytes === 0 && report.actions.length === 0) {
    violation(`recovery lost acknowledged data (kept ${kept} of ${run.model.acked}) and reported a clean open`);
  }
  run.model.settle(kept);
}

/**
 * After a lost or misplaced write, an open may lose the acknowledged operations the write
 * carried — nothing else, and only when no acknowledged operation follows them: valid
 * records after the hole prove it is damage, which must be refused (KEEL_CORRUPT), not
 * cut away. A loss at the very end is undetectable for any format: counted, not failed.
 */
function checkWriteDamageLoss(run: ScenarioState, kept: number, damage: TouchedOperations | null): number {
  const gap = run.model instanceof LogModel ? run.model.lastGap : null;
  // A format that binds no segment's end (BackendSupports.unboundSegmentEnds) cannot see a sealed segment that ends early.
  const endUnbound = damage !== null && damage.atFileEnds && run.adapter.supports.unboundSegmentEnds === true;
  if (gap !== null) {
    // Records after the hole are there: valid data after damage is corruption to refuse, not a tail.
    if (!endUnbound) violation(`a lost or misplaced write left a hole (records #${gap.from} to #${gap.to - 1} missing, later ones present) that open did not refuse with KEEL_CORRUPT`);
    (run.model as LogModel).dropGap(gap);
    run.outcome = 'undetectable';
    const remaining = kept - (gap.to - gap.from);
    if (remaining < run.model.acked) violation(`besides the hole a lost or misplaced write left (records #${gap.from} to #${gap.to - 1}), open lost acknowledged records at the end`);
    return remaining;
  }
  const acked = run.model.acked;
  if (kept >= acked) return kept;
  if (damage === null || acked <= damage.from) violation(`recovery lost acknowledged operations (kept ${kept} of ${acked}) that the lost or misplaced write did not touch`);
  if (kept < damage.from) violation(`recovery kept ${kept} of ${acked} operations: it lost acknowledged ones before #${damage.from}, the first the lost or misplaced write touched`);
  if (acked > damage.to && !endUnbound) {
    violation(`a lost or misplaced write damaged operations #${damage.from} to #${damage.to - 1}, and open dropped the acknowledged ones after them (kept ${kept} of ${acked}) instead of refusing the hole with KEEL_CORRUPT`);
  }
  run.outcome = 'undetectable';
  return kept;
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
