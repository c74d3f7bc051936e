import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import type { BackendAdapter } from './adapter.js';
import { fixedScenariosOf } from './fixed-scenarios.js';
import { knownHardCasesOf } from './known-hard-cases.js';
import { ScenarioRun } from './runner.js';
import { runRecoveryCrashes } from './recovery-crash-family.js';
import { runIoErrorAtEveryOperation } from './io-error-family.js';
import { runWriteFates } from './write-fate-family.js';
import { runHostileFiles } from './hostile-files.js';
import { runHostileLinks } from './real-files/hostile-links.js';
import { ConformanceViolation } from './violation.js';
import type { EntryLoss } from './crash.js';
import { applicableFaults, scenarioArbitrary, type Scenario } from './scenario.js';
import { smallWorkload } from './small-workload.js';
import { FaultTally } from './tally.js';
import { STORE_PROTOCOL_CHECKS } from './store-protocol.js';

/** Generated crash scenarios per backend in `pnpm test`; KEEL_CONFORMANCE_RUNS raises it. */
export const CONFORMANCE_RUNS_DEFAULT = 1000;

export interface DescribeBackendOptions {
  /** Scenarios to generate (default: KEEL_CONFORMANCE_RUNS or 1,000). */
  runs?: number;
  /** Replay: the seed and path fast-check printed (default: KEEL_CONFORMANCE_SEED / _PATH). */
  seed?: number;
  path?: string;
  /** The test functions to register with (abstract-level style); vitest's by default. The timeout is in milliseconds. */
  test?: (name: string, body: () => Promise<void>, timeout?: number) => void;
  describe?: (name: string, body: () => void) => void;
}

export interface ConformanceTestOptions {
  runs: number;
  seed?: number;
  path?: string;
}

export function conformanceOptions(options: DescribeBackendOptions = {}): ConformanceTestOptions {
  const environment = process.env;
  const runs = options.runs ?? (environment.KEEL_CONFORMANCE_RUNS ? Number(environment.KEEL_CONFORMANCE_RUNS) : CONFORMANCE_RUNS_DEFAULT);
  const seedText = environment.KEEL_CONFORMANCE_SEED;
  const seed = options.seed ?? (seedText ? Number(seedText) : undefined);
  const path = options.path ?? environment.KEEL_CONFORMANCE_PATH;
  const out: ConformanceTestOptions = { runs };
  if (seed !== undefined) out.seed = seed;
  if (path !== undefined) out.path = path;
  return out;
}

/** The default run's budget, per 1,000 scenarios: a run takes 20–75 s alone on two cores, and a full `pnpm test` runs other packages beside it. */
const GENERATED_TIMEOUT_PER_1000_RUNS_MS = 240_000;

/**
 * The time the generated scenarios may take: a fixed budget per 1,000 of them, so that a
 * longer run asked for with KEEL_CONFORMANCE_RUNS fails on a broken invariant, not on the
 * default test timeout.
 */
export function generatedScenariosTimeout(runs: number): number {
  return Math.max(1, Math.ceil(runs / 1000)) * GENERATED_TIMEOUT_PER_1000_RUNS_MS;
}

/**
 * Runs the generated crash scenarios against `adapter` and returns the tally; throws
 * (with fast-check's seed and path, shrunk) when an invariant breaks, and when a fault
 * kind never fired.
 */
export async function runConformance(adapter: BackendAdapter, options: ConformanceTestOptions): Promise<FaultTally> {
  const tally = new FaultTally(adapter.name, applicableFaults(adapter));
  const property = fc.asyncProperty(scenarioArbitrary(adapter), async (scenario) => {
    tally.add(await new ScenarioRun(adapter, scenario).run());
  });
  const parameters: fc.Parameters<[Scenario]> = { numRuns: options.runs };
  if (options.seed !== undefined) parameters.seed = options.seed;
  if (options.path !== undefined) parameters.path = options.path;
  await fc.assert(property, parameters);
  if (options.path === undefined) tally.assertAllFired();
  return tally;
}

/** Runs the property without throwing: the mutant self-test inspects how it failed. */
export async function checkConformance(adapter: BackendAdapter, options: ConformanceTestOptions): Promise<fc.RunDetails<[Scenario]>> {
  const property = fc.asyncProperty(scenarioArbitrary(adapter), async (scenario) => {
    await new ScenarioRun(adapter, scenario).run();
  });
  const parameters: fc.Parameters<[Scenario]> = { numRuns: options.runs };
  if (options.seed !== undefined) parameters.seed = options.seed;
  return fc.check(property, parameters);
}

/** Pending entry operations up to which every subset is tried at a crash point; past it, each one lost alone and each one kept alone. */
export const ENTRY_SUBSETS_EXHAUSTIVE_MAX = 4;

/**
 * A fixed small workload crashed at every disk operation, once keeping and once losing
 * everything unsynced, and, where several directory entry operations are pending, with
 * every subset of them kept (faults 5 and 6, enumerated exhaustively: a kernel may write
 * back one unlink or rename of a directory without another). Returns the crash states run.
 */
export async function runEveryCrashPoint(adapter: BackendAdapter): Promise<number> {
  const workload = smallWorkload(adapter);
  const plain = (data: 'keep-all' | 'lose-all', entries: EntryLoss = data): Scenario => ({
    durability: 'explicit',
    steps: workload,
    fault: { kind: 'protocol-crash-point', mutation: 1, choice: 0, crash: { seed: 1, data: { mode: data }, entries } },
    tail: [],
  });
  const dry = new ScenarioRun(adapter, plain('keep-all'));
  await dry.run();
  let points = 0;
  for (let mutation = 1; mutation <= dry.mutationsBeforeFault; mutation++) {
    const kept = new ScenarioRun(adapter, { ...plain('keep-all'), crashAtMutation: mutation });
    await runCrashState(kept, `crash point ${mutation}, everything kept`);
    await runCrashState(new ScenarioRun(adapter, { ...plain('lose-all'), crashAtMutation: mutation }), `crash point ${mutation}, everything lost`);
    points += 2;
    for (const keep of entrySubsets(kept.entriesPendingAtCrashPoint)) {
      const state = `crash point ${mutation}, data kept, entry operations kept by mask ${keep.toString(2)} of ${kept.entriesPendingAtCrashPoint}`;
      await runCrashState(new ScenarioRun(adapter, { ...plain('keep-all', { keep }), crashAtMutation: mutation }), state);
      points++;
    }
  }
  return points;
}

/** Runs one enumerated crash state; a violation names the state (the enumeration is deterministic). */
async function runCrashState(run: ScenarioRun, state: string): Promise<void> {
  try {
    await run.run();
  } catch (error) {
    if (error instanceof ConformanceViolation) throw new ConformanceViolation(`${state}: ${error.message}`);
    throw error;
  }
}

/**
 * The fixed scenarios (see fixed-scenarios.ts), in order; returns the first violation
 * instead of throwing, so that the mutant self-test can inspect it.
 */
export async function checkFixedScenarios(adapter: BackendAdapter): Promise<ConformanceViolation | null> {
  for (const fixed of fixedScenariosOf(adapter)) {
    try {
      await new ScenarioRun(adapter, fixed.scenario).run();
    } catch (error) {
      if (error instanceof ConformanceViolation) return new ConformanceViolation(`fixed scenario ${fixed.name}: ${error.message}`);
      throw error;
    }
  }
  return null;
}

/** Masks of `pending` entry operations other than all and none: every one for a few, else each lost alone and each kept alone. */
export function entrySubsets(pending: number): number[] {
  if (pending < 2) return [];
  const all = 2 ** Math.min(pending, 52) - 1;
  if (pending <= ENTRY_SUBSETS_EXHAUSTIVE_MAX) return Array.from({ length: all - 1 }, (_, index) => index + 1);
  const masks = new Set<number>();
  for (let index = 0; index < Math.min(pending, 52); index++) {
    masks.add(2 ** index);
    masks.add(all - 2 ** index);
  }
  return [...masks];
}

/** The hostile-files property's replay: KEEL_HOSTILE_SEED and KEEL_HOSTILE_PATH, as fast-check printed them; KEEL_HOSTILE_RUNS for more cases. */
function hostileOptions(): { runs?: number; seed?: number; path?: string } {
  const environment = process.env;
  const options: { runs?: number; seed?: number; path?: string } = {};
  if (environment.KEEL_HOSTILE_RUNS) options.runs = Number(environment.KEEL_HOSTILE_RUNS);
  if (environment.KEEL_HOSTILE_SEED) options.seed = Number(environment.KEEL_HOSTILE_SEED);
  if (environment.KEEL_HOSTILE_PATH) options.path = environment.KEEL_HOSTILE_PATH;
  return options;
}

/**
 * The whole conformance suite for one backend, from a one-line test file:
 * `describeBackend(adapter)`.
 */
export function describeBackend(adapter: BackendAdapter, options: DescribeBackendOptions = {}): void {
  const register = options.describe ?? describe;
  const test = options.test ?? ((name: string, body: () => Promise<void>, timeout?: number) => it(name, body, timeout));
  const settings = conformanceOptions(options);
  register(`conformance: ${adapter.name}`, () => {
    const tables: string[] = [];
    test(`survives ${settings.runs} generated crash scenarios`, async () => {
      const tally = await runConformance(adapter, settings);
      tables.push(tally.table());
    }, generatedScenariosTimeout(settings.runs));
    for (const known of knownHardCasesOf(adapter.name)) {
      test(`replays a known-hard scenario (${known.why})`, async () => {
        await new ScenarioRun(adapter, known.scenario).run();
      });
    }
    for (const fixed of fixedScenariosOf(adapter)) {
      test(`runs the fixed scenario ${fixed.name}`, async () => {
        await new ScenarioRun(adapter, fixed.scenario).run();
      });
    }
    test('survives a crash at every disk operation of a small workload', async () => {
      const points = await runEveryCrashPoint(adapter);
      tables.push(`exhaustive crash points: ${points} (${adapter.name})`);
    });
    test('survives a crash at every disk operation of each repair its open makes, and again in the recovery after that', async () => {
      const summary = await runRecoveryCrashes(adapter);
      if (summary.setups.length === 0) throw new ConformanceViolation(`${adapter.name}: no crash state left its open any repair to do (not even a torn tail): the recovery-crash family proved nothing`);
      tables.push(`recovery crashes: ${summary.states} crash states over ${summary.setups.length} repairs (${adapter.name}): ${summary.setups.map((setup) => `${setup.name} [${setup.repairs.join(', ')}; ${setup.recoveryMutations} operations]`).join('; ')}`);
    });
    test('fails each disk-changing operation of a small workload in turn with an I/O error, and loses nothing acknowledged', async () => {
      const summary = await runIoErrorAtEveryOperation(adapter);
      const failed = Object.entries(summary.failed).map(([kind, count]) => `${kind} ${count}`).join(', ');
      tables.push(`I/O error at every operation: ${summary.operations} operations, ${summary.states} runs (${adapter.name}); failed: ${failed}; refused writes with KEEL_POISONED in ${summary.poisoned}; outcomes ${JSON.stringify(summary.outcomes)}`);
    });
    test('loses, and misplaces, each write of a small workload in turn, and refuses the damage or loses only what that write carried', async () => {
      const summary = await runWriteFates(adapter);
      tables.push(`lost and misplaced writes: ${summary.writes} writes, ${summary.states} runs (${adapter.name}); outcomes ${JSON.stringify(summary.outcomes)}`);
    });
    test('refuses, untouched, or opens whole with hostile files in every file kind it keeps (impossible contents under valid checksums, files of another store, temporaries, directories)', async () => {
      const summary = await runHostileFiles(adapter, hostileOptions());
      tables.push(`hostile files: ${summary.cases} cases (${adapter.name}): refused ${summary.refused}, opened whole ${summary.opened}, undetectable (no store identity) ${summary.undetectable}, not applicable ${summary.skipped}`);
    });
    test('on real files: refuses, untouched, or opens whole with symlinks where its files and temporaries belong, and never writes through one', async () => {
      const summary = await runHostileLinks(adapter);
      tables.push(`hostile links: ${summary.cases} cases (${adapter.name}): refused ${summary.refused}, opened whole ${summary.opened}`);
    });
    for (const check of STORE_PROTOCOL_CHECKS) {
      if (check.requires !== undefined && adapter.supports[check.requires] !== true) continue;
      test(`store protocol: ${check.name}`, () => check.run(adapter));
    }
    afterAll(() => {
      if (tables.length > 0) console.log(tables.join('\n'));
    });
  });
}
