import { describe, expect, it } from 'vitest';
import type { SystemResult } from './harness.js';
import { formatMarkdown } from './report.js';

const row: SystemResult = { scenario: 's', backend: 'journal', system: 'keel journal', unit: 'µs', median: 400, min: 300, max: 500, rounds: 5, ratio: 1 };

describe('formatMarkdown', () => {
  it('keeps its columns when no row has details', () => {
    expect(formatMarkdown([row]).split('\n')[0]).toBe('| scenario | system | unit | median | min–max | keel × | syncs/round | target |');
  });

  it('adds a details column with the medians a system reported', () => {
    const lines = formatMarkdown([{ ...row, details: { 'p50 µs': 210, 'loop delay max ms': 3.5 } }, { ...row, system: 'lmdb' }]).split('\n');
    expect(lines[0]).toContain('| target | details |');
    expect(lines[2]).toMatch(/\| p50 µs 210, loop delay max ms 3\.50 \|$/);
    expect(lines[3]).toMatch(/\|  \|$/);
  });

  it('shows a target’s ceiling beside its verdict', () => {
    const lines = formatMarkdown([{ ...row, system: 'sqlite', ratio: 2.5, target: 'keel ≥ 3× sqlite', met: false, ceiling: { system: 'node:fs', ratio: 3.25 } }]).split('\n');
    expect(lines[2]).toMatch(/\| keel ≥ 3× sqlite: NOT met \(node:fs: 3\.25×\) \|$/);
  });
});
