import { expect, test } from 'vitest';
import { OUTPUT_DEFAULT, parseArguments } from './options.js';
import { selectScenarios } from './run.js';

test('scenario names, --quick and --output are parsed; a quick run never counts syncs', () => {
  expect(parseArguments(['journal-append-batch', '--quick'])).toEqual({
    selectors: ['journal-append-batch'],
    quick: true,
    countSyncs: false,
    list: false,
    output: OUTPUT_DEFAULT,
  });
  expect(parseArguments(['--', '--output', 'out.json']).output).toBe('out.json');
  expect(parseArguments([]).countSyncs).toBe(true);
});

test('an unknown option is refused', () => {
  expect(() => parseArguments(['--fast'])).toThrow();
});

test('an exact name selects one scenario, a prefix selects its family, an unknown name is refused', () => {
  expect(selectScenarios(['journal-append-batch']).map((scenario) => scenario.name)).toEqual(['journal-append-batch']);
  const journal = selectScenarios(['journal']).map((scenario) => scenario.name);
  expect(journal).toContain('journal-append-batch-4k');
  expect(journal).toContain('journal-scan-1gib');
  expect(() => selectScenarios(['no-such-scenario'])).toThrow();
});
