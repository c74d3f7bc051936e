import { formatNumber } from './report.js';
import { settleDisk } from './settle-disk.js';
import { summarize, type Summary } from './statistics.js';
import type { BenchSystem, Scenario, ScenarioContext, ScenarioSizing, Target } from './types.js';

const NANOSECONDS_PER_SECOND = 1e9;
const BYTES_PER_MEGABYTE = 1e6;

export interface SystemResult {
  scenario: string;
  backend: Scenario['backend'];
  system: string;
  unit: Scenario['unit'];
  median: number;
  min: number;
  max: number;
  rounds: number;
  /** keel's advantage over this system: above 1 means keel is better, 1 for keel itself. */
  ratio: number;
  /** fdatasync + fsync + msync calls in one round, where measured. */
  syncsPerRound?: number;
  target?: string;
  met?: boolean;
  /** For a ratio target with a ceiling: that system's ratio to this one, measured in the same rounds. */
  ceiling?: { system: string; ratio: number };
  scaleNote?: string;
  /** Medians over the rounds of the figures the system reported beside its value. */
  details?: Record<string, number>;
}

/** Runs the work between two `gc()`s so one system's garbage is not billed to the next. */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** The value one round produced, in the scenario's unit. */
export async function measureRound(scenario: Scenario, sizing: ScenarioSizing, system: BenchSystem): Promise<number> {
  collectGarbage();
  const started = process.hrtime.bigint();
  const returned = await system.run();
  const timedSeconds = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
  if (scenario.measure === 'reported') {
    if (typeof returned !== 'number') throw new Error(`${scenario.name}/${system.name}: a reported scenario must return its value`);
    return returned;
  }
  const seconds = typeof returned === 'number' ? returned : timedSeconds;
  if (scenario.measure === 'duration') return scenario.unit === 'µs' ? seconds * 1e6 : seconds * 1e3;
  const work = scenario.unit === 'MB/s' ? sizing.workPerRound / BYTES_PER_MEGABYTE : sizing.workPerRound;
  return work / seconds;
}

export function isLowerBetter(scenario: Scenario): boolean {
  if (scenario.measure === 'duration') return true;
  if (scenario.measure === 'throughput') return false;
  return scenario.lowerIsBetter === true;
}

/**
 * Sets every system up, runs the warm-up rounds, then the measured rounds interleaved
 * (A B C, C B A, A B C, …) so that a slow patch of the shared machine hits every system
 * alike and no system always runs right after the same neighbour; each round starts on a
 * settled disk (see settle-disk.ts). In a fixed order a system always inherited the same
 * neighbour's leftovers: segment-log-append-batch's ratio to the journal measured
 * 0.81–0.95 over five runs in A B C order and 0.84–1.03 over five in C B A.
 */
export async function runScenario(scenario: Scenario, context: ScenarioContext, log: (line: string) => void): Promise<SystemResult[]> {
  const sizing = scenario.sizing(context.quick);
  const systems = await scenario.systems(context, sizing);
  const values = new Map<string, number[]>(systems.map((system) => [system.name, []]));
  const details = new Map<string, Record<string, number>[]>(systems.map((system) => [system.name, []]));
  try {
    for (const system of systems) await system.setup?.();
    for (let round = 0; round < sizing.warmupRounds + sizing.rounds; round++) {
      const reversed = round % 2 === 1;
      for (const system of reversed ? [...systems].reverse() : systems) {
        settleDisk();
        const value = await measureRound(scenario, sizing, system);
        if (round < sizing.warmupRounds) continue;
        values.get(system.name)?.push(value);
        if (system.details) details.get(system.name)?.push(system.details());
      }
      log(`  round ${round + 1}/${sizing.warmupRounds + sizing.rounds}${round < sizing.warmupRounds ? ' (warm-up)' : ''}`);
    }
  } finally {
    for (const system of systems) await system.teardown?.();
  }
  const summaries = new Map([...values].map(([name, list]) => [name, summarize(list)]));
  const results = buildResults(scenario, sizing, summaries);
  for (const result of results) {
    const rounds = details.get(result.system) ?? [];
    if (rounds.length > 0) result.details = medianDetails(rounds);
  }
  return results;
}

function medianDetails(rounds: readonly Record<string, number>[]): Record<string, number> {
  const keys = Object.keys(rounds[0] as Record<string, number>);
  return Object.fromEntries(keys.map((key) => [key, summarize(rounds.map((round) => round[key] ?? Number.NaN)).median]));
}

export function keelSystemName(names: readonly string[]): string {
  const keel = names.find((name) => name.startsWith('keel'));
  if (keel === undefined) throw new Error(`no keel system among ${names.join(', ')}`);
  return keel;
}

function buildResults(scenario: Scenario, sizing: ScenarioSizing, summaries: Map<string, Summary>): SystemResult[] {
  const keelName = keelSystemName([...summaries.keys()]);
  const keelMedian = summaries.get(keelName)?.median ?? Number.NaN;
  const lowerBetter = isLowerBetter(scenario);
  return [...summaries].map(([name, summary]) => {
    const ratio = lowerBetter ? summary.median / keelMedian : keelMedian / summary.median;
    const result: SystemResult = {
      scenario: scenario.name,
      backend: scenario.backend,
      system: name,
      unit: scenario.unit,
      median: summary.median,
      min: summary.min,
      max: summary.max,
      rounds: summary.rounds,
      ratio: name === keelName ? 1 : ratio,
    };
    if (sizing.scaleNote !== undefined) result.scaleNote = sizing.scaleNote;
    applyTargets(result, scenario.targets, name === keelName, scenario.unit);
    const ceiling = ceilingOf(result, scenario.targets, summaries, lowerBetter);
    if (ceiling !== undefined) result.ceiling = ceiling;
    return result;
  });
}

type RatioTarget = Extract<Target, { kind: 'ratio-at-least' }>;

function targetsSystem(target: Target, system: string): target is RatioTarget {
  return target.kind === 'ratio-at-least' && (system === target.system || system.startsWith(`${target.system} `));
}

/** The ratio the target's ceiling system reached over this result's system, in the same rounds. */
function ceilingOf(result: SystemResult, targets: readonly Target[], summaries: Map<string, Summary>, lowerBetter: boolean): SystemResult['ceiling'] {
  const target = targets.find((candidate): candidate is RatioTarget => targetsSystem(candidate, result.system));
  if (target?.ceiling === undefined) return undefined;
  const ceiling = summaries.get(target.ceiling);
  if (ceiling === undefined) throw new Error(`${result.scenario}: the ceiling ${JSON.stringify(target.ceiling)} is not one of its systems`);
  return { system: target.ceiling, ratio: lowerBetter ? result.median / ceiling.median : ceiling.median / result.median };
}

function applyTargets(result: SystemResult, targets: readonly Target[], isKeel: boolean, unit: string): void {
  for (const target of targets) {
    if (targetsSystem(target, result.system)) {
      result.target = `keel ≥ ${target.factor}× ${target.system}`;
      result.met = result.ratio >= target.factor;
    } else if (target.kind === 'value-at-least' && isKeel) {
      result.target = `≥ ${formatNumber(target.value)} ${unit}`;
      result.met = result.median >= target.value;
    } else if (target.kind === 'value-at-most' && isKeel) {
      result.target = `≤ ${formatNumber(target.value)} ${unit}`;
      result.met = result.median <= target.value;
    }
  }
}
