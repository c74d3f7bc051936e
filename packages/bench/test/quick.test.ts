import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../src/run.js';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'keel-bench-test-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

// A smoke test of the whole pipeline: machine record, one scenario against every peer,
// the table and the JSON file. It never looks at a timing.
test('a quick run of one scenario completes and writes valid JSON', async () => {
  const output = join(directory, 'bench-results.json');
  const lines: string[] = [];
  await main(['journal-append-batch', '--quick', '--output', output], { log: (line) => lines.push(line) });

  const report = JSON.parse(readFileSync(output, 'utf8'));
  expect(report.quick).toBe(true);
  expect(report.machine.cores).toBeGreaterThan(0);
  expect(report.machine.fdatasyncMicrosecondsMedian).toBeGreaterThan(0);
  expect(report.skipped).toEqual([]);
  const systems = report.results.map((result: { system: string }) => result.system);
  expect(systems).toEqual(['keel journal', 'node:fs', 'node:fs over pre-written space', 'lmdb', 'classic-level', 'better-sqlite3']);
  for (const result of report.results) {
    expect(result.scenario).toBe('journal-append-batch');
    expect(result.unit).toBe('records/s');
    expect(result.median).toBeGreaterThan(0);
    expect(result.min).toBeLessThanOrEqual(result.max);
    expect(Number.isFinite(result.ratio)).toBe(true);
  }
  const targeted = report.results.filter((result: { target?: string }) => result.target !== undefined);
  expect(targeted.map((result: { system: string }) => result.system).sort()).toEqual(['better-sqlite3', 'lmdb']);
  expect(lines.join('\n')).toContain('journal-append-batch');
});
