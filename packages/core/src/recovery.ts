import { KeelError, badArgument } from './errors.js';
import { describeType } from './validate.js';
import type { FrameFormat, TailState } from './frame.js';
import { FrameScanner, type ScannedFrame } from './frame-scanner.js';
import { searchNextValidFrame } from './frame-search.js';
import type { Io, IoFile } from './io.js';
import { saveAndTruncateTail } from './saved-tail.js';

/**
 * What open does with a file that did not end cleanly.
 * - `truncate-tail` (default): a torn tail (nothing valid after the damage) is saved
 *   beside the file and cut off; damage followed by valid frames is refused.
 * - `strict`: refuse to open anything that is not clean, and change nothing.
 * - `salvage`: the caller's explicit opt-in to keep the valid prefix even when valid
 *   frames follow the damage; everything after the prefix is saved beside the file.
 */
export type RecoveryPolicy = 'truncate-tail' | 'strict' | 'salvage';

export const RECOVERY_POLICY_DEFAULT: RecoveryPolicy = 'truncate-tail';

export function normalizeRecoveryPolicy(policy: RecoveryPolicy | undefined): RecoveryPolicy {
  if (policy === undefined) return RECOVERY_POLICY_DEFAULT;
  if (policy === 'truncate-tail' || policy === 'strict' || policy === 'salvage') return policy;
  throw badArgument(`recovery must be 'truncate-tail', 'strict' or 'salvage', got ${describeType(policy)}`);
}

export interface RecoveryAction {
  kind:
    | 'saved-tail'
    | 'truncated-tail'
    | 'rebuilt-index'
    | 'removed-temporary'
    | 'ignored-snapshot'
    | 'loaded-snapshot'
    | 'removed-file'
    | 'completed-switch'
    | 'kept-pending'
    | 'created'
    | 'trusted-clean-shutdown'
    | 'ignored-file';
  path: string;
  offset?: number;
  bytes?: number;
  detail?: string;
}

/**
 * Actions that report what open found without changing anything: a loaded snapshot, a
 * compaction kept pending, a new store, a clean-shutdown record trusted instead of a full
 * check, a file at one of the store's names that is not the store's (left untouched).
 */
const NOT_REPAIRS: ReadonlySet<RecoveryAction['kind']> = new Set(['loaded-snapshot', 'kept-pending', 'created', 'trusted-clean-shutdown', 'ignored-file']);

/** Whether an action repaired something (cut, saved, rebuilt, removed, finished): a store that needed none was whole. */
export function isRepair(action: RecoveryAction): boolean {
  return !NOT_REPAIRS.has(action.kind);
}

/** What open found and what it did about it. Identical on a second open (idempotent). */
export interface RecoveryReport {
  tailState: TailState;
  /** Bytes of whole, valid frames kept (summed over files for multi-file stores). */
  validBytes: number;
  /** Bytes cut off the tail. */
  discardedBytes: number;
  /** Records found valid. */
  records: number;
  /** Where the discarded bytes were saved, when any were. */
  savedTailPath?: string;
  actions: RecoveryAction[];
}

export function cleanReport(validBytes = 0, records = 0): RecoveryReport {
  return { tailState: 'clean-end', validBytes, discardedBytes: 0, records, actions: [] };
}

export interface RecoverFrameLogOptions {
  io: Io;
  file: IoFile;
  format: FrameFormat;
  policy: RecoveryPolicy;
  /** Where frames start (after any file header). */
  from?: number;
  /** Called for each valid frame in order; the payload view is valid only during the call. */
  onFrame?: (frame: ScannedFrame) => void;
  /**
   * Whether bytes at `from` that are neither a frame nor a torn first frame's magic (each
   * byte the magic's or zero) mean the file is not ours: true for formats whose first
   * frame starts at `from` with no file header, such as the journal.
   */
  foreignIfBadStart?: boolean;
  /**
   * Called once the scan has ended, with the offset of the last valid frame's first byte
   * (null when there is none): what a store needs to name its last frame later without
   * scanning again, at no cost per frame.
   */
  onLastFrame?: (offset: number | null) => void;
}

/**
 * Scans a frame log, then decides what its end means and acts on it under `policy`.
 * Nothing is modified unless the file is ours and the damage is a tail the policy lets us
 * cut; the cut bytes are made durable beside the file before the file is truncated, so
 * a crash during recovery loses nothing and a second recovery does the same thing.
 */
export async function recoverFrameLog(options: RecoverFrameLogOptions): Promise<RecoveryReport> {
  const { io, file, format, policy } = options;
  const from = options.from ?? 0;
  const scanner = new FrameScanner(file, format, { from });
  if (options.onFrame) {
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) options.onFrame(frame);
  } else {
    scanner.skipToEnd();
  }
  options.onLastFrame?.(scanner.lastFrameOffset);
  const tailState = scanner.tailState ?? 'clean-end';
  const validBytes = scanner.validBytes;
  const size = scanner.end;
  const report: RecoveryReport = { tailState, validBytes, discardedBytes: 0, records: scanner.frames, actions: [] };
  if (tailState === 'clean-end') return report;

  const where = { path: file.path, offset: validBytes };
  if (options.foreignIfBadStart && validBytes === from && tailState === 'bad-magic' && !startsLikeTornMagic(file, from, format)) {
    throw new KeelError('KEEL_CORRUPT', `${file.path} does not start with a keel frame (bad magic at offset ${from}); it is not ours and was left untouched`, where);
  }
  if (policy === 'strict') {
    throw new KeelError('KEEL_CORRUPT', `${file.path} has a damaged tail at offset ${validBytes} (${tailState}); opened strict, nothing was changed`, where);
  }
  if (policy !== 'salvage') refuseUnlessTornTail(file, format, tailState, validBytes, size);
  const saved = await saveAndTruncateTail(io, file, validBytes, size);
  report.discardedBytes = size - validBytes;
  report.savedTailPath = saved;
  report.actions.push(
    { kind: 'saved-tail', path: saved, offset: validBytes, bytes: size - validBytes },
    { kind: 'truncated-tail', path: file.path, offset: validBytes, bytes: size - validBytes, detail: tailState },
  );
  return report;
}

/**
 * Throws KEEL_CORRUPT unless nothing valid can follow the damage at `validBytes`: valid
 * frames after it mean mid-log corruption, and a search that reached its bound (see
 * searchNextValidFrame) has not proven the tail garbage. Either way nothing is changed.
 */
function refuseUnlessTornTail(file: IoFile, format: FrameFormat, tailState: TailState, validBytes: number, size: number): void {
  const search = searchNextValidFrame(file, format, validBytes + 1, size);
  const where = { path: file.path, offset: validBytes };
  const salvage = "Nothing was changed; open with recovery 'salvage' to keep only the prefix";
  if (search.offset !== null) {
    throw new KeelError('KEEL_CORRUPT', `${file.path} is corrupt at offset ${validBytes} (${tailState}) and valid frames follow at ${search.offset}: this is not a torn tail. ${salvage}`, where);
  }
  if (search.gaveUpAt !== null) {
    throw new KeelError(
      'KEEL_CORRUPT',
      `${file.path} is corrupt at offset ${validBytes} (${tailState}) and the ${size - validBytes} bytes after it hold more candidate frames than recovery checks (it stopped at ${search.gaveUpAt} after ${search.checkedBytes} bytes): it is not proven a torn tail. ${salvage}`,
      where,
    );
  }
}

const MAGIC_BYTES = 4;

/**
 * Whether the bytes at `from` could be the magic of a first frame whose write was torn:
 * each is the magic's byte or zero (a hole the crash left, or preallocated space). A
 * format with no file header can be left exactly so by a crash during its first write,
 * and must then open (its unsynced bytes saved and cut); anything else there means the
 * file is not ours.
 */
function startsLikeTornMagic(file: IoFile, from: number, format: FrameFormat): boolean {
  const head = new Uint8Array(MAGIC_BYTES);
  const read = file.readSync(head, from);
  for (let i = 0; i < read; i++) {
    const expected = (format.magic >>> (8 * (MAGIC_BYTES - 1 - i))) & 0xff;
    if (head[i] !== 0 && head[i] !== expected) return false;
  }
  return true;
}
