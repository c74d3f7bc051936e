// Barriers on a segment log's background work, for tests that look at the files it
// leaves: reached through the store's protected hooks, which no public call waits on alone.
import type { SegmentLog } from '../../src/index.js';

interface BackgroundHooks {
  settleBackgroundWrites(): Promise<void>;
  maintain(task: () => Promise<void>): Promise<void>;
}

/** Resolves once every maintenance task queued by now has run (a task of its own, which renames nothing, as retention would). */
export function maintenanceQueued(log: SegmentLog): Promise<void> {
  return (log as unknown as BackgroundHooks).maintain(async () => undefined);
}

/**
 * Resolves once the background work after the flushes so far has ended: the sealed index
 * frames being written (whose end queues what a roll left), then the maintenance queued by then.
 */
export async function backgroundWorkSettled(log: SegmentLog): Promise<void> {
  await (log as unknown as BackgroundHooks).settleBackgroundWrites();
  await maintenanceQueued(log);
}
