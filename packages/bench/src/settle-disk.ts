import { spawnSync } from 'node:child_process';

/**
 * Writes back every dirty page on the machine (`sync(1)`), untimed, before each round of
 * each system, so that no round pays for the writeback of another's unsynced writes. The
 * variants with fdatasync made a no-op, and the page cache's own delayed writeback of the
 * peers, leave megabytes dirty; the kernel writes them out whenever it likes, which was
 * during the next system's round, whose fdatasyncs then queued behind them: lmdb's batch
 * puts in wal-kv-put-batch measured 348k/s when its rounds always followed wal-kv's no-sync
 * variant, and 472k/s once every round started settled. Where `sync` cannot run, rounds
 * start as they come.
 */
export function settleDisk(): void {
  spawnSync('sync', { stdio: 'ignore' });
}
