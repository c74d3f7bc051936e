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
  // A clean close may leave a clean-shutdown record that lets the next open skip its
  // checks (segment-log's sealed segments, the journal's full scan); the open that trusts
  // it must make its removal durable before anything is appended, or a power cut can bring
  // it back to vouch for a store that has moved on.
  fixed.push({
    name: 'clean-close-then-power-cut',
    why: 'a clean close, an open that trusts what it left, writes synced and then a close, open again, then a power cut that loses every unsynced byte and directory entry: what the closes and syncs acknowledged is there, and nothing a clean-shutdown record vouched for earlier is taken on trust',
    scenario: {
      durability: 'explicit',
      steps: [write(10, 0), write(20, 1), { type: 'sync' }, { type: 'reopen' }, write(30, 2), { type: 'sync' }, { type: 'reopen' }, write(12, 3)],
      fault: { kind: 'dropped-unsynced', crash: { seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' } },
      tail: [],
    },
  });
  fixed.push({
    name: 'clean-close-then-unsynced-entries-kept-in-part',
    why: 'after an open that trusted a clean-shutdown record, a write is left unsynced; the power cut keeps any part of the directory operations since the last directory sync and a prefix of the unsynced bytes: what is there is a prefix, and the record, if it came back, does not describe it',
    scenario: {
      durability: 'explicit',
      steps: [write(10, 0), write(20, 1), { type: 'reopen' }, write(30, 2), write(5, 3)],
      fault: { kind: 'dropped-unsynced', crash: { seed: 7, data: { mode: 'byte-prefix' }, entries: 'subset' } },
      tail: [write(8, 0), { type: 'sync' }, { type: 'reopen' }],
    },
  });
  return fixed;
}
