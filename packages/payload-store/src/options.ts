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
import { SEGMENT_BYTES_DEFAULT, SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from './format.js';

export interface PayloadStoreOptions {
  /** Rotate to a new segment before a segment would grow past this (default 256 MiB). */
  segmentBytes?: number;
  /** When appends become durable on their own (default `{ mode: 'explicit' }`). */
  durability?: DurabilityOption;
  /** What open does with a torn active segment (default 'truncate-tail'). */
  recovery?: RecoveryPolicy;
  /**
   * How much open checks the sealed segments: 'headers' (default) reads each header and
   * leaves payload checks to `read`; 'full' verifies every frame of every segment and
   * refuses to open (KEEL_CORRUPT with file and offset, nothing changed) on damage.
   */
  verify?: VerifyLevel;
  /** The file system (default: the native Io). */
  io?: Io;
  /**
   * Open beside a live writer: no lock is taken, and nothing on disk is created, written,
   * cut, renamed or removed. Recovery runs in memory, so `recovery` says what a writer's
   * open would do; writes and syncs are refused with KEEL_READ_ONLY.
   */
  readOnly?: boolean;
}

export type { VerifyLevel } from '@keel/core';

export interface NormalizedOptions {
  readonly segmentBytes: number;
  readonly durability: DurabilityPolicy;
  readonly recovery: RecoveryPolicy;
  readonly verify: VerifyLevel;
  readonly io: Io;
  readonly readOnly: boolean;
}

export function normalizeOptions(options: PayloadStoreOptions | undefined): NormalizedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw badArgument(`options must be an object, got ${describeType(options)}`);
  const segmentBytes = options.segmentBytes ?? SEGMENT_BYTES_DEFAULT;
  if (!Number.isInteger(segmentBytes) || segmentBytes < SEGMENT_BYTES_MIN || segmentBytes > SEGMENT_BYTES_MAX) {
    throw badArgument(`segmentBytes must be an integer in [${SEGMENT_BYTES_MIN}, ${SEGMENT_BYTES_MAX}], got ${describeType(segmentBytes)}`);
  }
  const io = normalizeIo(options.io, nativeIo);
  const verify = normalizeVerifyLevel(options.verify);
  return {
    segmentBytes,
    verify,
    durability: normalizeDurability(options.durability),
    recovery: normalizeRecoveryPolicy(options.recovery),
    io,
    readOnly: normalizeReadOnly(options.readOnly),
  };
}

export function assertDirectory(dir: unknown): asserts dir is string {
  if (typeof dir !== 'string' || dir.length === 0) throw badArgument(`dir must be a non-empty path string, got ${describeType(dir)}`);
}
