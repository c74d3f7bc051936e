/**
 * Deliberate bugs the reference log can be built with. Each is a mistake a real engine
 * has shipped; the conformance suite must catch every one (see test/mutants.test.ts).
 */
export interface ReferenceFlaws {
  /** sync() resolves without fdatasync. */
  ackBeforeSync?: boolean;
  /** New segments are never made durable in their directory. */
  skipDirectorySync?: boolean;
  /** Any damage cuts the log there, mid-log corruption included (hides it). */
  truncateOnAnyCorruption?: boolean;
  /** A bad record is skipped and replay continues after it (VelesDB). */
  skipBadRecords?: boolean;
  /** A failed fdatasync is retried, and the retry's success reported (fsyncgate). */
  retryFailedSync?: boolean;
  /** On roll the index is made durable while the segment data is not (Rivven). */
  indexBeforeData?: boolean;
  /** Under durability 'none', open counts the unsynced records it found as durable, so a sync() with no new writes skips the fdatasync. */
  foundBytesDurable?: boolean;
}

export type FlawName = keyof ReferenceFlaws;

export const FLAW_NAMES: readonly FlawName[] = [
  'ackBeforeSync',
  'skipDirectorySync',
  'truncateOnAnyCorruption',
  'skipBadRecords',
  'retryFailedSync',
  'indexBeforeData',
  'foundBytesDurable',
];
