import type { BackendAdapter } from './adapter.js';
import type { FailedOperationClass, Injection } from './fault-fs.js';
import type { CrashSpec } from './faults.js';
import { ScenarioRun, type Outcome } from './runner.js';
import type { Scenario } from './scenario.js';
import { smallWorkload } from './small-workload.js';
import { ConformanceViolation } from './violation.js';

/** A process crash keeps every page the failure left; a power cut keeps only what was synced. */
const CRASHES: readonly { name: string; crash: CrashSpec; durability: (adapter: BackendAdapter) => Scenario['durability'] }[] = [
  { name: 'process crash', crash: { seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }, durability: () => 'explicit' },
  // Under every-write each write's own acknowledgement is checked too, where the backend has it.
  { name: 'power cut', crash: { seed: 2, data: { mode: 'lose-all' }, entries: 'lose-all' }, durability: (adapter) => (adapter.supports.everyWrite ? 'every-write' : 'explicit') },
];

export interface IoErrorSummary {
  /** Disk-changing operations of the workload: each was failed once. */
  operations: number;
  /** Scenario runs (each operation under each crash). */
  states: number;
  /** Failures by the class of the failed operation (write, sync, open, entry). */
  failed: Partial<Record<FailedOperationClass, number>>;
  outcomes: Partial<Record<Outcome, number>>;
  /** Runs in which a failed write or sync left the store open and it was seen refusing a write with KEEL_POISONED. */
  poisoned: number;
}

function scenarioFailing(adapter: BackendAdapter, nth: number, crash: (typeof CRASHES)[number]): Scenario {
  // EIO and ENOSPC alternate: a dead sector and a full disk, at every other index each.
  const injection: Injection = { operation: 'mutation', nth, errno: nth % 2 === 1 ? 'EIO' : 'ENOSPC', persistent: false };
  return { durability: crash.durability(adapter), steps: [], fault: { kind: 'io-error', injection, crash: crash.crash }, tail: smallWorkload(adapter), armedFromStart: true };
}

/**
 * An I/O error at every operation index (SQLite's technique): the small workload, from
 * the store's creation on, runs once with nothing failing to count its disk-changing
 * operations (writes, truncates,
 * datasyncs, fsyncs, directory syncs, renames, removes, creates), then once per index
 * with exactly that operation failing (EIO or ENOSPC), the rest of the workload carried
 * on as a caller would (reopening when the store is gone), then a crash and a reopen.
 * Checked: the failure reaches the caller as a KeelError; after a failed write or sync
 * the store refuses writes with KEEL_POISONED and acknowledges nothing more until it is
 * reopened; after the crash nothing acknowledged is lost, nothing corrupt is returned,
 * and recovery is idempotent and the store writable. A violation names the index and
 * the scenario that replays it.
 */
export async function runIoErrorAtEveryOperation(adapter: BackendAdapter): Promise<IoErrorSummary> {
  const dry = new ScenarioRun(adapter, scenarioFailing(adapter, Number.MAX_SAFE_INTEGER, CRASHES[0] as (typeof CRASHES)[number]));
  await dry.run();
  const summary: IoErrorSummary = { operations: dry.injectionOperations, states: 0, failed: {}, outcomes: {}, poisoned: 0 };
  for (let nth = 1; nth <= summary.operations; nth++) {
    for (const crash of CRASHES) {
      const scenario = scenarioFailing(adapter, nth, crash);
      const run = new ScenarioRun(adapter, scenario);
      let outcome: Outcome;
      try {
        ({ outcome } = await run.run());
      } catch (error) {
        if (!(error instanceof ConformanceViolation)) throw error;
        throw new ConformanceViolation(
          `I/O error at disk operation ${nth} of ${summary.operations} (${scenario.fault.kind === 'io-error' ? scenario.fault.injection.errno : ''}), then a ${crash.name}: ${error.message}\nReplay: await new ScenarioRun(adapter, ${JSON.stringify(scenario)}).run()`,
        );
      }
      summary.states++;
      if (run.refusalChecked) summary.poisoned++;
      summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
      for (const failed of run.failedOperations) summary.failed[failed] = (summary.failed[failed] ?? 0) + 1;
    }
  }
  return summary;
}
