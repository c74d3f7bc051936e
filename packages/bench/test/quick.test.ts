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
  expect(systems).toEqual(['keel journal', 'node:fs', 'node:fs over pre-written space', 'keel journal, syncThroughSync()', 'node:fs async fdatasync', 'lmdb', 'classic-level', 'better-sqlite3']);
  for (const result of report.results) {
    expect(result.scenario).toBe('journal-append-batch');
    expect(result.unit).toBe('records/s');
    expect(result.median).toBeGreaterThan(0);
    expect(result.min).toBeLessThanOrEqual(result.max);
    expect(Number.isFinite(result.ratio)).toBe(true);
  }
  const targeted = report.results.filter((result: { target?: string }) => result.target !== undefined);
  expect(targeted.map((result: { system: string }) => result.system).sort()).toEqual(['better-sqlite3', 'lmdb']);
  for (const result of targeted) expect(result.ceiling.system).toBe('node:fs');
  expect(lines.join('\n')).toContain('journal-append-batch');
});

// Every target that names a ceiling gets that system's ratio from the same run: a ceiling
// naming no system of its scenario would throw, and the scenario would be skipped.
test("segment-log's append targets carry node:fs's ratio on the same bytes beside them", async () => {
  const output = join(directory, 'bench-results.json');
  await main(['segment-log-append-batch', 'segment-log-append-batch-paired', '--quick', '--output', output], { log: () => undefined });

  const report = JSON.parse(readFileSync(output, 'utf8'));
  expect(report.skipped).toEqual([]);
  const peers = report.results.filter((result: { system: string }) => result.system === 'lmdb' || result.system === 'better-sqlite3');
  expect(peers).toHaveLength(4);
  for (const result of peers) {
    expect(result.target).toMatch(/^keel ≥ 3× /);
    expect(result.ceiling.system).toBe("node:fs, segment-log's bytes");
    expect(result.ceiling.ratio).toBeGreaterThan(0);
  }
  const systems = report.results.map((result: { system: string }) => result.system);
  expect(systems).toContain('keel segment-log, syncSync()');
  expect(systems).toContain("node:fs async fdatasync, segment-log's bytes");
});
