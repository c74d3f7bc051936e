import { isKeelError } from '@keel/core';
import type { KvModel, LogModel } from './model.js';
import type { ScenarioState } from './scenario-state.js';
import { CorruptionReported, DiskFrozen, describeError } from './scenario-rules.js';
import { ConformanceViolation, violation } from './violation.js';
import type { TouchedOperations } from './write-fate-damage.js';

/**
 * Reads the whole store and matches it against the model; returns how many operations it
 * shows. A read error is a violation, except damage refused with KEEL_CORRUPT and an
 * offset when `reportable` (thrown as CorruptionReported for the caller to count).
 */
export async function matchState(run: ScenarioState, allowance: number, reportable = false, gapWithin?: TouchedOperations): Promise<number> {
  try {
    if (run.adapter.kind === 'log') return (run.model as LogModel).match(await run.adapter.read(run.store), allowance, gapWithin);
    return (run.model as KvModel).match(await run.adapter.read(run.store), allowance);
  } catch (error) {
    // A read may write (a journal hands its buffer to the OS first) and reach a crash point.
    if (run.fs.frozen) throw new DiskFrozen();
    if (error instanceof ConformanceViolation || (run.injection !== null && isKeelError(error))) throw error;
    if (reportable && isKeelError(error, 'KEEL_CORRUPT') && typeof error.offset === 'number') throw new CorruptionReported();
    violation(`reading the store after open failed: ${describeError(error)}`);
  }
}

/** Without a crash a read sees everything written, acknowledged or not. */
export async function checkLatest(run: ScenarioState): Promise<void> {
  // While an injection is armed a read may fail; the recovery after it checks everything.
  if (run.injection !== null) return;
  const model = run.model;
  const saved = model.acked;
  model.ack(model.size);
  try {
    const kept = await matchState(run, 0);
    if (kept !== model.size) violation(`a read shows ${kept} of ${model.size} operations written so far`);
  } finally {
    model.acked = saved;
  }
}
