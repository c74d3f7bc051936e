import { badArgument, describeType, nativeIo, normalizeDurability, normalizeIo, normalizeRecoveryPolicy,
  normalizeReadOnly, type DurabilityOption, type DurabilityPolicy, type Io, type RecoveryPolicy } from '@keel/core';
import { normalizeKeyEncoding, normalizeValueEncoding, type KeyEncoding, type ValueEncoding } from './encoding.js';
import { COMPACT_WHEN_GARBAGE_RATIO_DEFAULT, KEYS_MAX, CHECKPOINT_EVERY_BYTES_DEFAULT } from './limits.js';

export interface WalKvOptions {
  /** When writes become durable on their own (default `{ mode: 'explicit' }`). */
  durability?: DurabilityOption;
  /** Write an index checkpoint once the log grew this many bytes since the last, or 8 times the last checkpoint's size if that is more (default 10 MiB; Infinity: never); a clean close writes one past this many bytes. */
  checkpointEveryBytes?: number;
  /** Compact once dead bytes / log bytes exceeds this (default 0.5; 1: never). */
  compactWhenGarbageRatio?: number;
  /** How values are given and returned (default 'binary'). */
  valueEncoding?: ValueEncoding;
  /** How `keys()` and `entries()` return keys (default 'utf8'); any key may be given as string or bytes. */
  keyEncoding?: KeyEncoding;
  /** What open does with a damaged log (default 'truncate-tail'). */
  recovery?: RecoveryPolicy;
  /** Most live keys the store may hold (default and maximum KEYS_MAX); a write beyond it is refused with KEEL_TOO_LARGE. */
  keysMax?: number;
  /** The file system (default: the native one). */
  io?: Io;
  /**
   * Open beside a live writer: no lock is taken, and nothing on disk is created, written,
   * cut, renamed or removed. Recovery runs in memory, so `recovery` says what a writer's
   * open would do; writes and syncs are refused with KEEL_READ_ONLY.
   */
  readOnly?: boolean;
}

export interface NormalizedOptions {
  durability: DurabilityPolicy;
  checkpointEveryBytes: number;
  compactWhenGarbageRatio: number;
  valueEncoding: ValueEncoding;
  keyEncoding: KeyEncoding;
  recovery: RecoveryPolicy;
  keysMax: number;
  io: Io;
  readOnly: boolean;
}

export function normalizeOptions(dir: unknown, options: WalKvOptions | undefined): NormalizedOptions {
  if (typeof dir !== 'string' || dir.length === 0) throw badArgument('dir must be a non-empty string');
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw badArgument('options must be an object');
  const checkpointEveryBytes = options.checkpointEveryBytes ?? CHECKPOINT_EVERY_BYTES_DEFAULT;
  if (!(checkpointEveryBytes === Infinity || (Number.isSafeInteger(checkpointEveryBytes) && checkpointEveryBytes >= 1))) {
    throw badArgument(`checkpointEveryBytes must be a positive integer or Infinity, got ${describeType(checkpointEveryBytes)}`);
  }
  const ratio = options.compactWhenGarbageRatio ?? COMPACT_WHEN_GARBAGE_RATIO_DEFAULT;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1)) throw badArgument(`compactWhenGarbageRatio must be in (0, 1], got ${describeType(ratio)}`);
  const keysMax = options.keysMax ?? KEYS_MAX;
  if (!(Number.isSafeInteger(keysMax) && keysMax >= 1 && keysMax <= KEYS_MAX)) throw badArgument(`keysMax must be an integer in [1, ${KEYS_MAX}], got ${describeType(keysMax)}`);
  return {
    durability: normalizeDurability(options.durability),
    checkpointEveryBytes,
    compactWhenGarbageRatio: ratio,
    valueEncoding: normalizeValueEncoding(options.valueEncoding),
    keyEncoding: normalizeKeyEncoding(options.keyEncoding),
    recovery: normalizeRecoveryPolicy(options.recovery),
    keysMax,
    io: normalizeIo(options.io, nativeIo),
    readOnly: normalizeReadOnly(options.readOnly),
  };
}
