import {
  badArgument,
  describeType,
  nativeIo,
  normalizeDurability,
  normalizeIo,
  normalizeRecoveryPolicy,
  normalizeReadOnly,
  normalizeVerifyLevel,
  type DurabilityOption,
  type DurabilityPolicy,
  type Io,
  type RecoveryPolicy,
  type VerifyLevel,
} from '@keel/core';
import { normalizeTiered, type NormalizedTiered, type TieredOptions } from './tiered/tiered-options.js';
import { INDEX_INTERVAL_BYTES_DEFAULT, INDEX_INTERVAL_BYTES_MIN, SEGMENT_BYTES_DEFAULT, SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from './format.js';

export interface RetentionOptions {
  /** Delete the oldest sealed segments while the log is larger than this. */
  bytes?: number;
  /** Delete sealed segments whose newest record is older than this many milliseconds. */
  ms?: number;
}

export interface SegmentLogOptions {
  segmentBytes?: number;
  segmentMs?: number;
  indexIntervalBytes?: number;
  durability?: DurabilityOption;
  retention?: RetentionOptions;
  recovery?: RecoveryPolicy;
  io?: Io;
  /**
   * How much open checks sealed segments (the option every keel store shares).
   * `'headers'` (default): header, index, and the records after the last index entry;
   * the rest is checked by every read and by `verify()`. `'full'`: every frame of every
   * sealed segment, so damage anywhere is refused at open, not met by a read.
   */
  verify?: VerifyLevel;
  /** Clock for default timestamps and age retention (milliseconds); defaults to Date.now. */
  now?: () => number;
  /**
   * Open beside a live writer: no lock is taken, and nothing on disk is created, written,
   * cut, renamed or removed. Recovery runs in memory, so `recovery` says what a writer's
   * open would do; writes and syncs are refused with KEEL_READ_ONLY.
   */
  readOnly?: boolean;
  /**
   * Tiered storage: sealed segments are copied to a remote object store in the
   * background and read back from it below the local start (README "Tiered storage").
   */
  tiered?: TieredOptions;
}

export interface NormalizedOptions {
  segmentBytes: number;
  segmentMs: number;
  indexIntervalBytes: number;
  durability: DurabilityPolicy;
  retentionBytes: number;
  retentionMs: number;
  recovery: RecoveryPolicy;
  io: Io;
  verifyOnOpen: boolean;
  now: () => number;
  readOnly: boolean;
  tiered: NormalizedTiered | null;
}

function integerIn(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badArgument(`${name} must be an integer in [${min}, ${max}], got ${describeType(value)}`);
  }
  return value;
}

export function normalizeOptions(dir: unknown, options: unknown): NormalizedOptions {
  if (typeof dir !== 'string' || dir.length === 0) throw badArgument(`dir must be a non-empty string, got ${describeType(dir)}`);
  if (options === null || typeof options !== 'object') throw badArgument(`options must be an object, got ${describeType(options)}`);
  const given = options as SegmentLogOptions;
  const retention = given.retention ?? {};
  if (retention === null || typeof retention !== 'object') throw badArgument(`retention must be an object like { bytes, ms }, got ${describeType(retention)}`);
  if (given.now !== undefined && typeof given.now !== 'function') throw badArgument(`now must be a function, got ${describeType(given.now)}`);
  const io = normalizeIo(given.io, nativeIo);
  return {
    segmentBytes: integerIn(given.segmentBytes, 'segmentBytes', SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX, SEGMENT_BYTES_DEFAULT),
    segmentMs: integerIn(given.segmentMs, 'segmentMs', 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    indexIntervalBytes: integerIn(given.indexIntervalBytes, 'indexIntervalBytes', INDEX_INTERVAL_BYTES_MIN, SEGMENT_BYTES_MAX, INDEX_INTERVAL_BYTES_DEFAULT),
    durability: normalizeDurability(given.durability),
    retentionBytes: integerIn(retention.bytes, 'retention.bytes', 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    retentionMs: integerIn(retention.ms, 'retention.ms', 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    recovery: normalizeRecoveryPolicy(given.recovery),
    io,
    verifyOnOpen: normalizeVerifyLevel(given.verify) === 'full',
    now: given.now ?? Date.now,
    readOnly: normalizeReadOnly(given.readOnly),
    tiered: normalizeTiered(given.tiered),
  };
}
