import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario, type SystemResult } from './harness.js';
import { formatMachine, formatMarkdownReport, formatTable, type BenchReport, type SkippedScenario } from './report.js';
import { recordMachine } from './machine.js';
import { parseArguments, type CliOptions } from './options.js';
import { SCENARIOS } from './scenarios/index.js';
import { closeSharedData } from './scenarios/shared-data.js';
import { probeMemory } from './scenarios/wal-kv-memory.js';
import { probeSyncs, straceAvailable, traceSyncs } from './sync-count.js';
import type { Scenario, ScenarioContext } from './types.js';

export interface RunEnvironment {
  /** The compiled cli.js, for the strace children; without it syncs are not counted. */
  cliPath?: string;
  log?: (line: string) => void;
}

/** Scenarios named exactly, or all whose name starts with a selector (`journal` → every journal scenario). */
export function selectScenarios(selectors: readonly string[]): Scenario[] {
  if (selectors.length === 0) return [...SCENARIOS];
  const chosen = new Set<Scenario>();
  for (const selector of selectors) {
    const exact = SCENARIOS.filter((scenario) => scenario.name === selector);
    const matches = exact.length > 0 ? exact : SCENARIOS.filter((scenario) => scenario.name.startsWith(`${selector}-`) || scenario.backend === selector);
    if (matches.length === 0) throw new Error(`no scenario matches ${JSON.stringify(selector)}; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
    for (const match of matches) chosen.add(match);
  }
  return SCENARIOS.filter((scenario) => chosen.has(scenario));
}

async function runOne(scenario: Scenario, context: ScenarioContext, countSyncs: boolean, environment: RunEnvironment): Promise<SystemResult[]> {
  const log = environment.log ?? console.log;
  const results = await runScenario(scenario, context, log);
  if (countSyncs && scenario.countSyncs && environment.cliPath !== undefined) {
    for (const result of results) {
      log(`  counting syncs: ${result.system}`);
      const count = traceSyncs(environment.cliPath, scenario.name, result.system, context);
      if (count !== undefined) result.syncsPerRound = count;
    }
  }
  return results;
}

/** Runs each scenario in its own directory; a scenario that throws is reported as skipped. */
async function runScenarios(scenarios: readonly Scenario[], options: CliOptions, runDirectory: string, environment: RunEnvironment): Promise<{ results: SystemResult[]; skipped: SkippedScenario[] }> {
  const log = environment.log ?? console.log;
  const countSyncs = options.countSyncs && straceAvailable();
  if (options.countSyncs && !countSyncs) log('strace is not available: fdatasync calls are not counted');
  const results: SystemResult[] = [];
  const skipped: SkippedScenario[] = [];
  for (const scenario of scenarios) {
    const directory = mkdtempSync(join(runDirectory, `${scenario.name}-`));
    const context: ScenarioContext = { quick: options.quick, directory, sharedDirectory: join(runDirectory, SHARED_DIRECTORY_NAME), ...(environment.cliPath === undefined ? {} : { cliPath: environment.cliPath }) };
    const started = Date.now();
    log(`\n${scenario.name}: ${scenario.description}`);
    try {
      const scenarioResults = await runOne(scenario, context, countSyncs, environment);
      results.push(...scenarioResults);
      log(formatTable(scenarioResults));
      if (scenarioResults[0]?.scaleNote !== undefined) log(`  note: ${scenarioResults[0].scaleNote}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      skipped.push({ scenario: scenario.name, reason });
      log(`  skipped: ${reason}`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return { results, skipped };
}

function writeReport(report: BenchReport, options: CliOptions, log: (line: string) => void): void {
  log(`\n${formatTable(report.results)}`);
  for (const skip of report.skipped) log(`skipped ${skip.scenario}: ${skip.reason}`);
  writeFileSync(options.output, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwrote ${options.output}`);
  if (options.markdown !== undefined) {
    writeFileSync(options.markdown, formatMarkdownReport(report));
    log(`wrote ${options.markdown}`);
  }
}

const SHARED_DIRECTORY_NAME = 'shared';

export async function main(argv: readonly string[], environment: RunEnvironment = {}): Promise<BenchReport | undefined> {
  const log = environment.log ?? console.log;
  const options = parseArguments(argv);
  if (options.list) {
    for (const scenario of SCENARIOS) log(`${scenario.name.padEnd(34)} ${scenario.description}`);
    return undefined;
  }
  if (options.render !== undefined) {
    const report = JSON.parse(readFileSync(options.render, 'utf8')) as BenchReport;
    if (options.markdown !== undefined) writeFileSync(options.markdown, formatMarkdownReport(report));
    else log(formatMarkdownReport(report));
    return report;
  }
  if (options.memoryProbe !== undefined) {
    await probeMemory(options.memoryProbe.system, options.memoryProbe.paths, options.memoryProbe.keys);
    return undefined;
  }
  const runDirectory = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const sharedDirectory = join(runDirectory, SHARED_DIRECTORY_NAME);
  mkdirSync(sharedDirectory);
  try {
    if (options.probe !== undefined) {
      const [scenario] = selectScenarios([options.probe.scenario]);
      if (scenario === undefined) throw new Error(`unknown scenario ${options.probe.scenario}`);
      await probeSyncs(scenario, options.probe.system, { quick: options.quick, directory: runDirectory, sharedDirectory });
      return undefined;
    }
    const scenarios = selectScenarios(options.selectors);
    const startedAt = new Date().toISOString();
    const machine = recordMachine(runDirectory, options.quick);
    log(formatMachine(machine));
    const { results, skipped } = await runScenarios(scenarios, options, runDirectory, environment);
    const loadAverageAtEnd = loadavg().map((load) => Math.round(load * 100) / 100);
    const report: BenchReport = { quick: options.quick, machine, startedAt, finishedAt: new Date().toISOString(), loadAverageAtEnd, results, skipped };
    writeReport(report, options, log);
    return report;
  } finally {
    await closeSharedData();
    rmSync(runDirectory, { recursive: true, force: true });
  }
}
