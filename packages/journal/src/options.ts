import {
  assertPosition,
  normalizeIo,
  badArgument,
  nativeIo,
  normalizeDurability,
  normalizeRecoveryPolicy,
  normalizeReadOnly,
  type DurabilityOption,
  type DurabilityPolicy,
  type Io,
  type RecoveryPolicy,
} from '@keel/core';
import { WRITE_BUFFER_BYTES_DEFAULT, WRITE_BUFFER_BYTES_MAX, WRITE_BUFFER_BYTES_MIN } from './format.js';

export interface JournalOptions {
  /** When the journal syncs on its own (default `{ mode: 'explicit' }`: on sync/syncThrough and close). */
  durability?: DurabilityOption;
  /** Write with O_DIRECT through a 4096-aligned log buffer; falls back where refused (see `isDirect`). */
  direct?: boolean;
  /** Bytes to reserve past the end on open (fallocate KEEP_SIZE; the file size does not change). */
  preallocate?: number;
  /** What open does with a damaged tail (default 'truncate-tail'). */
  recovery?: RecoveryPolicy;
  /** The file system (default: the native Io). */
  io?: Io;
  /** Buffered bytes that trigger a write to the OS (default 1 MiB). */
  writeBufferBytes?: number;
  /**
   * Run the fdatasyncs of `sync` / `syncThrough` on an OS thread the journal owns (started
   * at the first one, stopped by close) instead of the shared libuv threadpool (default
   * true). Where the Io cannot (any Io but the native one), the Io's own `datasync` runs.
   */
  syncThread?: boolean;
  /**
   * Open beside a live writer: no lock is taken, and nothing on disk is created, written,
   * cut, renamed or removed. Recovery runs in memory, so `recovery` says what a writer's
   * open would do; writes and syncs are refused with KEEL_READ_ONLY.
   */
  readOnly?: boolean;
}

export interface NormalizedJournalOptions {
  durability: DurabilityPolicy;
  direct: boolean;
  preallocate: number;
  recovery: RecoveryPolicy;
  io: Io;
  writeBufferBytes: number;
  readOnly: boolean;
  syncThread: boolean;
}

/** The journal checks its path as every Io does (core's check), before anything else. */
export { assertPath } from '@keel/core';

export function normalizeJournalOptions(options: JournalOptions | undefined): NormalizedJournalOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw badArgument('options must be an object');
  const given = options ?? {};
  if (given.direct !== undefined && typeof given.direct !== 'boolean') throw badArgument('direct must be a boolean');
  if (given.syncThread !== undefined && typeof given.syncThread !== 'boolean') throw badArgument('syncThread must be a boolean');
  const preallocate = given.preallocate ?? 0;
  assertPosition(preallocate, 'preallocate');
  const writeBufferBytes = given.writeBufferBytes ?? WRITE_BUFFER_BYTES_DEFAULT;
  if (!Number.isInteger(writeBufferBytes) || writeBufferBytes < WRITE_BUFFER_BYTES_MIN || writeBufferBytes > WRITE_BUFFER_BYTES_MAX) {
    throw badArgument(`writeBufferBytes must be an integer in [${WRITE_BUFFER_BYTES_MIN}, ${WRITE_BUFFER_BYTES_MAX}]`);
  }
  return {
    durability: normalizeDurability(given.durability),
    direct: given.direct === true,
    preallocate,
    recovery: normalizeRecoveryPolicy(given.recovery),
    io: normalizeIo(given.io, nativeIo),
    writeBufferBytes,
    readOnly: normalizeReadOnly(given.readOnly),
    syncThread: given.syncThread ?? true,
  };
}
