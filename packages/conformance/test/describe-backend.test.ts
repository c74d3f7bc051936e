import { describe, expect, it } from 'vitest';
import { describeBackend, referenceLogAdapter } from '../src/index.js';

/** The tests describeBackend registers, with the timeout each asked for, without running them. */
function registered(runs: number): Map<string, number | undefined> {
  const timeouts = new Map<string, number | undefined>();
  describeBackend(referenceLogAdapter(), {
    runs,
    describe: (_name, body) => body(),
    test: (name, _body, timeout) => void timeouts.set(name, timeout),
  });
  return timeouts;
}

describe('describeBackend', () => {
  it('gives the generated scenarios a budget that grows with the runs asked for', () => {
    expect(registered(1000).get('survives 1000 generated crash scenarios')).toBe(240_000);
    expect(registered(200).get('survives 200 generated crash scenarios')).toBe(240_000);
    expect(registered(20_000).get('survives 20000 generated crash scenarios')).toBe(4_800_000);
    expect(registered(2_500).get('survives 2500 generated crash scenarios')).toBe(720_000);
  });

  it('leaves every other test at the runner default', () => {
    const others = [...registered(20_000)].filter(([name]) => !name.includes('generated crash scenarios'));
    expect(others.length).toBeGreaterThan(3);
    for (const [, timeout] of others) expect(timeout).toBeUndefined();
  });
});
