import type { BackendAdapter } from './adapter.js';
import type { Scenario, Step } from './scenario.js';

/**
 * Scenarios every backend runs in every CI run, whatever the seed: each is a path a
 * planted bug once hid on, too narrow for generated scenarios to draw reliably.
 */
export interface FixedScenario {
  readonly name: string;
  /** What a backend must get right for it to pass. */
  readonly why: string;
  readonly scenario: Scenario;
}

const write = (size: number, key: number): Step => ({ type: 'write', size, key, remove: false });

export function fixedScenariosOf(adapter: BackendAdapter): FixedScenario[] {
  const fixed: FixedScenario[] = [];
  if (adapter.supports.durabilityNone) {
    fixed.push({
      name: 'reopen-then-sync-under-none',
      why: 'a clean close under durability none leaves whole, unsynced records; the next open finds them, and a sync() with no new writes must still fdatasync before it claims them durable',
      scenario: {
        durability: 'none',
        steps: [write(10, 0), write(20, 1), { type: 'reopen' }, { type: 'sync' }],
        fault: { kind: 'dropped-unsynced', crash: { seed: 1, data: { mode: 'lose-all' }, entries: 'keep-all' } },
        tail: [],
      },
    });
  }
  fixed.push({
    name: 'process-crash-then-sync',
    why: 'a process crash inside a sync, after its writes, leaves whole, unsynced records in the page cache; the next open finds them, and a sync() with no new writes must still make them durable (an fdatasync at open, or in that sync) before it claims them',
    scenario: {
      durability: 'explicit',
      steps: [write(10, 0), write(20, 1), { type: 'process-crash', inSync: true }, { type: 'sync' }],
      fault: { kind: 'dropped-unsynced', crash: { seed: 1, data: { mode: 'lose-all' }, entries: 'keep-all' } },
      tail: [],
    },
  });
  return fixed;
}
