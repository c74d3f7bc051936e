import { isKeelError } from '@keel/core';
import type { Injection } from './fault-fs.js';
import type { CrashSpec, Fault, FaultKind } from './faults.js';
import { makePayload } from './model.js';
import { crash, recover } from './recovery-check.js';
import { KV_KEYS, RECORD_BYTES_MAX, protocolsOf } from './scenario.js';
import type { ScenarioState } from './scenario-state.js';
import { REFUSAL_ALLOWED, damageAllowance, describeError, firedBy, isThenable, settleMicrotasks } from './scenario-rules.js';
import { ConformanceViolation, violation } from './violation.js';
import { touchedOperations } from './write-fate-damage.js';
import { reopen, retention, runProtocol, runStep, sync, write } from './workload-steps.js';

/** Where a retention crashed as a protocol cuts the log: late, so that it drops several segments at once. */
const RETENTION_PROTOCOL_FRACTION = 0.9;

/**
 * Applies the scenario's fault once the steps before it have run, and recovers from it;
 * returns whether the fault fired (changed something, threw, reached its crash point).
 */
export async function applyFault(run: ScenarioState, fault: Fault): Promise<boolean> {
  switch (fault.kind) {
    case 'protocol-crash-point':
    case 'kv-maintenance-crash':
      return protocolCrash(run, fault.kind, fault.mutation, fault.choice, fault.crash);
    case 'fsync-failure':
    case 'io-error':
      return injected(run, fault.kind, fault.injection, fault.crash);
    case 'group-commit-crash':
      return groupCommitCrash(run, fault.writers, fault.released, fault.crash);
    case 'recovery-crash':
      return recoveryCrash(run, fault.first, fault.mutation, fault.crash);
    case 'lost-write':
    case 'misplaced-write':
      return writeFateMet(run, fault);
    default: {
      run.fs.crashAtMutation(Number.POSITIVE_INFINITY);
      await runTailUnsynced(run);
      const effects = crash(run, fault.crash);
      const fired = firedBy(fault.kind, effects);
      const misplacedUndetectable = (fault.kind === 'misdirected-write' || fault.kind === 'stale-tail') && run.adapter.supports.positionFreeFrames === true;
      await recover(run, { allowance: damageAllowance(fault), refusalAllowed: REFUSAL_ALLOWED.has(fault.kind), misplacedUndetectable });
      return fired;
    }
  }
}

/** A crash point armed for the whole scenario was reached: crash there and recover. */
export async function crashPointReached(run: ScenarioState, fault: Fault): Promise<boolean> {
  run.entriesPendingAtCrashPoint = run.fs.pendingEntryOperations;
  run.fs.crashAtMutation(Number.POSITIVE_INFINITY);
  const effects = crash(run, 'crash' in fault ? fault.crash : { seed: 0, data: { mode: 'lose-all' }, entries: 'keep-all' });
  await recover(run, { allowance: 0, refusalAllowed: false });
  return fault.kind === 'lost-entries' ? effects.entriesLost : true;
}

/** Faults 6 and 12: a crash at the `mutation`-th disk operation of one protocol (close + open for single-file stores). */
async function protocolCrash(run: ScenarioState, kind: FaultKind, mutation: number, choice: number, spec: CrashSpec): Promise<boolean> {
  const protocols: (() => Promise<void>)[] = protocolsOf(run.adapter)
    .filter((name) => kind !== 'kv-maintenance-crash' || name === 'compact' || name === 'snapshot')
    .map((name) => () => runProtocol(run, name));
  // Retention is a protocol too: several unlinks, each to be made durable before the next.
  const adapter = run.adapter;
  if (kind === 'protocol-crash-point' && adapter.kind === 'log' && adapter.supports.retention && adapter.deleteBefore) {
    protocols.push(() => retention(run, RETENTION_PROTOCOL_FRACTION));
  }
  run.fs.crashAtMutation(mutation);
  try {
    // Without multi-file protocols, close + open is the protocol: final sync, lock, recovery.
    if (protocols.length === 0) await reopen(run);
    else await (protocols[choice % protocols.length] as () => Promise<void>)();
  } catch (error) {
    if (!(error instanceof ConformanceViolation) || !run.fs.frozen) throw error;
  }
  const fired = run.fs.frozen;
  run.fs.crashAtMutation(Number.POSITIVE_INFINITY);
  crash(run, spec);
  await recover(run, { allowance: 0, refusalAllowed: false });
  return fired;
}

/** Faults 9 and 10: an injected error, the tail run through it, then a crash. */
async function injected(run: ScenarioState, kind: FaultKind, injection: Injection, spec: CrashSpec): Promise<boolean> {
  if (run.injection === null) armInjection(run, injection);
  for (const step of run.scenario.tail) {
    if (run.unsettled) break;
    await runStep(run, step);
    await checkRefusesWrites(run);
  }
  if (run.store !== null && run.failed()) {
    // Poisoned: one more write and sync must not claim durability.
    write(run, [8], [0], [false], false);
    await sync(run);
  }
  run.injectionOperations = run.fs.injectionCount;
  run.failedOperations = [...run.fs.failedClasses];
  const fired = run.fs.injectionsFired > 0;
  run.fs.inject(null);
  run.injection = null;
  crash(run, spec);
  await recover(run, { allowance: 0, refusalAllowed: REFUSAL_ALLOWED.has(kind) });
  return fired;
}

/** From now on the injection counts (and fails) operations; failures from now on are this session's. */
function armInjection(run: ScenarioState, injection: Injection): void {
  run.injection = injection;
  run.firedAtOpen = run.fs.injectionsFired;
  run.fs.inject(injection);
}

/** Arms the fault's injection or write fate now, before the store's first open (Scenario.armedFromStart). */
export function armFault(run: ScenarioState, fault: Fault): void {
  if ('injection' in fault) armInjection(run, fault.injection);
  if (fault.kind === 'lost-write' || fault.kind === 'misplaced-write') armWriteFate(run, fault);
}

function armWriteFate(run: ScenarioState, fault: Extract<Fault, { kind: 'lost-write' | 'misplaced-write' }>): void {
  run.fs.armWriteFate({ kind: fault.kind === 'lost-write' ? 'lost' : 'misplaced', nth: fault.nth, seed: fault.seed });
  run.writeFateArmed = true;
}

/**
 * Faults 16 and 17: a write the store makes is acknowledged, and synced, but the disk
 * loses it or stores it at another offset of its file; the tail and a sync run, then a
 * crash keeps everything else. The store must refuse the damage (KEEL_CORRUPT), or open
 * with nothing lost but the operations the write itself carried — and those only when
 * nothing acknowledged follows them (a write lost at the very end is undetectable to
 * any format).
 */
async function writeFateMet(run: ScenarioState, fault: Extract<Fault, { kind: 'lost-write' | 'misplaced-write' }>): Promise<boolean> {
  if (!run.writeFateArmed) armWriteFate(run, fault);
  for (const step of run.scenario.tail) await runStep(run, step);
  if (run.store !== null) await sync(run);
  run.throwAsyncViolations();
  const fired = run.fs.writeFatesMet > 0;
  run.writesCounted = run.fs.writesCounted;
  run.fs.armWriteFate(null);
  const intended = run.fs.files();
  crash(run, fault.crash);
  const isDerived = (path: string): boolean => run.adapter.isDerivedFile?.(path) === true;
  const writeDamage = touchedOperations(run.model, intended, run.fs.files(), isDerived);
  const misplacedUndetectable = fault.kind === 'misplaced-write' && run.adapter.supports.positionFreeFrames === true;
  await recover(run, { allowance: 0, refusalAllowed: true, misplacedUndetectable, writeDamage });
  return fired;
}

/**
 * After a failed write or sync the store refuses every write with KEEL_POISONED until it
 * is reopened: a retried fsync can succeed while the data is gone (fsyncgate), so
 * nothing written after the failure may ever be acknowledged. Checked once per session,
 * right after the step in which the failure happened.
 */
async function checkRefusesWrites(run: ScenarioState): Promise<void> {
  // A failure in a flush the store started on its own is seen on a later turn.
  await settleMicrotasks();
  if (run.store === null || run.refusalCheckedInSession || !run.failed()) return;
  assertRefusesWrites(run);
  run.refusalCheckedInSession = true;
  run.refusalChecked = true;
}

function assertRefusesWrites(run: ScenarioState): void {
  const adapter = run.adapter;
  const failed = run.fs.failedClasses.slice(run.firedAtOpen).join(', ');
  let result: unknown;
  try {
    result = adapter.kind === 'log' ? adapter.append(run.store, makePayload(0, 8)) : adapter.put(run.store, KV_KEYS[0], makePayload(0, 8));
  } catch (error) {
    if (isKeelError(error, 'KEEL_POISONED')) return;
    violation(`after a failed ${failed} a write threw ${describeError(error)}, not KEEL_POISONED`);
  }
  if (isThenable(result)) result.then(undefined, () => undefined);
  violation(`after a failed ${failed} a write was accepted; a store must refuse writes with KEEL_POISONED until it is reopened`);
}

/** Fault 11: writers wait on held syncs, some complete, then a crash (which may flip a bit of durable data). */
async function groupCommitCrash(run: ScenarioState, writers: number, released: number, spec: CrashSpec): Promise<boolean> {
  if (run.store === null) return false;
  run.fs.holdSyncs();
  let waiting = 0;
  const epoch = run.epoch;
  for (let i = 0; i < writers; i++) {
    write(run, [8 + i], [i % KV_KEYS.length], [false], false);
    const upTo = run.model.size;
    waiting++;
    run.adapter.sync(run.store).then(
      () => {
        waiting--;
        if (run.epoch === epoch) run.model.ack(upTo);
      },
      () => undefined,
    );
  }
  await settleMicrotasks();
  run.fs.releaseSyncs(released);
  await settleMicrotasks();
  const fired = run.fs.heldSyncs > 0 && waiting >= 2;
  const effects = crash(run, spec);
  // A bit flip that landed may be refused, or spoil the one record it hit (as fault 7).
  const damaged = effects.damagedPath !== null;
  await recover(run, { allowance: damaged ? 1 : 0, refusalAllowed: damaged });
  return fired;
}

/** The tail, then one more write left unsynced: a crash then has unsynced data to work on. */
async function runTailUnsynced(run: ScenarioState): Promise<void> {
  for (const step of run.scenario.tail) await runStep(run, step);
  if (run.store === null) return;
  write(run, [RECORD_BYTES_MAX], [1], [false], false);
  run.throwAsyncViolations();
}

/** Fault 14: a crash, a crash at the `mutation`-th operation of the recovery from it, then recovery again. */
async function recoveryCrash(run: ScenarioState, first: CrashSpec, mutation: number, spec: CrashSpec): Promise<boolean> {
  await runTailUnsynced(run);
  crash(run, first);
  const fired = await recover(run, { allowance: 0, refusalAllowed: false, crashAtMutation: mutation });
  if (!fired) return false;
  crash(run, spec);
  await recover(run, { allowance: 0, refusalAllowed: false });
  return true;
}
