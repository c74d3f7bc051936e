import type { BackendAdapter } from './adapter.js';
import { protocolsOf, type Step } from './scenario.js';

/** Segments the small workload rolls before one retention drops them together. */
const RETENTION_WORKLOAD_SEGMENTS = 3;

/**
 * A fixed workload that touches every protocol the adapter has once, with syncs between:
 * small enough to crash at every one of its disk operations (runEveryCrashPoint), and
 * rich enough to leave a recovery real work (the recovery-crash family builds on it).
 */
export function smallWorkload(adapter: BackendAdapter): Step[] {
  const write = (size: number, key: number): Step => ({ type: 'write', size, key, remove: false });
  const steps: Step[] = [write(10, 0), write(30, 1), { type: 'sync' }];
  for (const name of protocolsOf(adapter)) steps.push(write(20, 2), { type: 'protocol', name }, { type: 'sync' });
  // Retention that drops several segments at once: a crash may keep any subset of its unlinks.
  if (adapter.kind === 'log' && adapter.supports.retention && adapter.deleteBefore) {
    for (let segment = 0; segment < RETENTION_WORKLOAD_SEGMENTS; segment++) steps.push(write(30, segment), { type: 'protocol', name: 'roll' });
    steps.push({ type: 'sync' }, { type: 'retention', fraction: 0.9 }, { type: 'sync' });
  }
  if (adapter.supports.batch) steps.push({ type: 'batch', sizes: [5, 40, 12], keys: [0, 1, 3], removes: [false, adapter.kind === 'kv', false] });
  steps.push(write(25, 3), { type: 'sync' }, { type: 'reopen' }, write(12, 0), { type: 'sync' });
  return steps;
}

