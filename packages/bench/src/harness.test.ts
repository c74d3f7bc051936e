import { expect, test } from 'vitest';
import { runScenario } from './harness.js';
import type { BenchSystem, Scenario } from './types.js';

test('rounds run the systems in alternating order, so no system always follows the same neighbour', async () => {
  const calls: string[] = [];
  const system = (name: string): BenchSystem => ({ name, run: async () => void calls.push(name) });
  const scenario: Scenario = {
    name: 'order',
    backend: 'journal',
    description: 'records the order systems run in',
    unit: 'ops/s',
    measure: 'throughput',
    targets: [],
    sizing: () => ({ workPerRound: 1, rounds: 3, warmupRounds: 1 }),
    systems: async () => ['keel a', 'b', 'c'].map(system),
  };
  const results = await runScenario(scenario, { quick: true, directory: '', sharedDirectory: '' }, () => undefined);
  expect(calls.join(' ')).toBe('keel a b c c b keel a keel a b c c b keel a');
  // The warm-up round is left out of every system's figures.
  expect(results.map((result) => result.rounds)).toEqual([3, 3, 3]);
});

function reporting(values: Record<string, number>, targets: Scenario['targets'], lowerIsBetter: boolean): Scenario {
  return {
    name: 'ceiling',
    backend: 'segment-log',
    description: 'reports fixed values',
    unit: lowerIsBetter ? 'µs' : 'records/s',
    measure: 'reported',
    lowerIsBetter,
    targets,
    sizing: () => ({ workPerRound: 1, rounds: 1, warmupRounds: 0 }),
    systems: async () => Object.entries(values).map(([name, value]) => ({ name, run: async () => value })),
  };
}

test('a ratio target with a ceiling carries the ceiling system’s own ratio to the peer, measured in the same run', async () => {
  const run = (scenario: Scenario) => runScenario(scenario, { quick: true, directory: '', sharedDirectory: '' }, () => undefined);
  const rates = await run(reporting({ 'keel log': 2e6, 'node:fs': 2.6e6, sqlite: 0.8e6 }, [{ kind: 'ratio-at-least', system: 'sqlite', factor: 3, ceiling: 'node:fs' }], false));
  const sqlite = rates.find((result) => result.system === 'sqlite');
  expect(sqlite?.met).toBe(false);
  expect(sqlite?.ratio).toBeCloseTo(2.5);
  expect(sqlite?.ceiling?.system).toBe('node:fs');
  expect(sqlite?.ceiling?.ratio).toBeCloseTo(3.25);
  // Rows the target does not name carry no ceiling.
  expect(rates.find((result) => result.system === 'node:fs')?.ceiling).toBeUndefined();

  const times = await run(reporting({ 'keel log': 300, 'node:fs': 250, sqlite: 900 }, [{ kind: 'ratio-at-least', system: 'sqlite', factor: 3, ceiling: 'node:fs' }], true));
  const slow = times.find((result) => result.system === 'sqlite');
  expect(slow?.met).toBe(true);
  expect(slow?.ceiling?.ratio).toBeCloseTo(3.6);

  await expect(run(reporting({ 'keel log': 1, sqlite: 2 }, [{ kind: 'ratio-at-least', system: 'sqlite', factor: 3, ceiling: 'node:fs' }], false))).rejects.toThrow(/ceiling "node:fs" is not one of its systems/);
});
