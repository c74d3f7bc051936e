/** Records per acknowledged batch of the SIGKILL writer. */
export const KILL_BATCH_RECORDS = 4;
/** Keys the key-value writer cycles through. */
export const KILL_KEYS = 8;
/** The writer rolls / seals / snapshots every this many syncs, so kills land in protocols too. */
export const KILL_PROTOCOL_EVERY_SYNCS = 16;
/** Ids of round r start at r × this. */
export const KILL_ROUND_IDS = 1_000_000;

export function killRecordBytes(id: number): number {
  return 8 + (id % 24);
}
