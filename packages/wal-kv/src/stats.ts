/** wal-kv's own `stats()` fields; the shared ones (durability, flushes, poisoned, closed, …) come from core's `StoreStats`. */
export interface WalKvStats {
  /** Generation of the current log file (bumped by each compaction). */
  generation: number;
  keys: number;
  /** Seq of the last write. */
  lastSeq: number;
  /** Every seq up to this one is durable. */
  durableSeq: number;
  /** Bytes of the current log, including what is still buffered. */
  logBytes: number;
  bufferedBytes: number;
  /** Log bytes holding overwritten puts and deletes: what compaction would reclaim. */
  deadBytes: number;
  garbageRatio: number;
  /** Log position covered by the newest snapshot. */
  checkpointPosition: number;
  checkpointsWritten: number;
  compactions: number;
  /** Code of the last failed automatic snapshot or compaction, if any. */
  lastMaintenanceError: string | null;
  /** Bytes the in-memory index has allocated: its table's arrays and key arena. */
  indexBytes: number;
}
