import { describe, expect, it } from 'vitest';
import { referenceLogAdapter, runFileDamage, runKillTest } from '../src/index.js';

describe('real files: the reference log', () => {
  it('refuses or reports every truncation, zeroed tail and bit flip of a small log', async () => {
    const summary = await runFileDamage(referenceLogAdapter());
    expect(summary.cases).toBeGreaterThan(0);
    expect(summary.opened + summary.refused).toBe(summary.cases);
  });
});

describe('a SIGKILLed writer: the reference log', () => {
  it('keeps every acknowledged record, as a prefix, over several killed writers', async () => {
    const result = await runKillTest(referenceLogAdapter(), {
      adapterModule: new URL('../src/reference/adapter.ts', import.meta.url).href,
      exportName: 'referenceAdapter',
    });
    expect(result.rounds).toBe(2);
    expect(result.acknowledged).toBeGreaterThan(0);
  });
});
