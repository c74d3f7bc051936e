import type { BackendAdapter } from './adapter.js';
import type { Fault } from './faults.js';
import { ScenarioRun, type Outcome } from './runner.js';
import type { Scenario } from './scenario.js';
import { smallWorkload } from './small-workload.js';
import { ConformanceViolation } from './violation.js';

/** Where each misplaced write lands is drawn from these seeds: a few landing places per write. */
export const MISPLACED_SEEDS = [1, 2] as const;

export interface WriteFateSummary {
  /** Writes of the workload: each was lost once and misplaced once per seed. */
  writes: number;
  states: number;
  outcomes: Partial<Record<Outcome, number>>;
}

function scenarioOf(adapter: BackendAdapter, fault: Fault): Scenario {
  return { durability: 'explicit', steps: [], fault, tail: smallWorkload(adapter), armedFromStart: true };
}

/**
 * Every write of the small workload, from the store's creation on, lost in turn, and
 * misplaced in turn (stored at another offset of its file), TigerBeetle's storage faults:
 * the write and its sync succeed, the disk does not hold it. After the workload (synced)
 * and a crash that keeps everything else, the store must refuse the damage with
 * KEEL_CORRUPT, or open with nothing missing but the operations that write carried when
 * nothing acknowledged follows them. A violation names the write and the scenario.
 */
export async function runWriteFates(adapter: BackendAdapter): Promise<WriteFateSummary> {
  const dry = new ScenarioRun(adapter, scenarioOf(adapter, { kind: 'lost-write', nth: Number.MAX_SAFE_INTEGER, seed: 0, crash: { seed: 0, data: { mode: 'keep-all' }, entries: 'keep-all' } }));
  await dry.run();
  const summary: WriteFateSummary = { writes: dry.writesCounted, states: 0, outcomes: {} };
  for (let nth = 1; nth <= summary.writes; nth++) {
    const faults: Fault[] = [{ kind: 'lost-write', nth, seed: 0, crash: { seed: 0, data: { mode: 'keep-all' }, entries: 'keep-all' } }];
    for (const seed of MISPLACED_SEEDS) faults.push({ kind: 'misplaced-write', nth, seed, crash: { seed, data: { mode: 'keep-all' }, entries: 'keep-all' } });
    for (const fault of faults) {
      const scenario = scenarioOf(adapter, fault);
      let outcome: Outcome;
      try {
        ({ outcome } = await new ScenarioRun(adapter, scenario).run());
      } catch (error) {
        if (!(error instanceof ConformanceViolation)) throw error;
        throw new ConformanceViolation(`write ${nth} of ${summary.writes} ${fault.kind === 'lost-write' ? 'lost' : 'misplaced'}: ${error.message}\nReplay: await new ScenarioRun(adapter, ${JSON.stringify(scenario)}).run()`);
      }
      summary.states++;
      summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
    }
  }
  return summary;
}
