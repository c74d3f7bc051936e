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
