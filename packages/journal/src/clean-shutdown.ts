import { posix } from 'node:path';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkFrameAt, isKeelError, parentDir, writeFileDurably, type Io, type IoFile, type RecoveryAction, type RecoveryReport } from '@keel/core';
import { CLEAN_SHUTDOWN_BYTES, CLEAN_SHUTDOWN_SUFFIX, CLEAN_SHUTDOWN_TEMPORARY_SUFFIX, JOURNAL_FRAME_FORMAT } from './format.js';
import { decodeCleanShutdown, encodeCleanShutdown, isTornCleanShutdown, type CleanShutdownRecord, type DecodedCleanShutdown } from './clean-shutdown-record.js';

/**
 * Kafka's clean-shutdown file, for a journal whose own file has no room for one: close
 * writes `<path>.clean-shutdown` once everything is durable, naming the journal's end, its
 * record count and its last frame. While the journal still ends exactly there, with that
 * frame, open trusts it instead of checking every frame; a writable open removes it,
 * durably, before anything can be appended, so it never outlives the state it describes.
 */
export interface CleanShutdownSurvey {
  readonly path: string;
  readonly temporaryPath: string;
  /** What is at `path` (null: nothing). */
  readonly found: DecodedCleanShutdown | null;
  /** What is at `temporaryPath`: nothing, a record write a crash cut short, or something not ours. */
  readonly temporary: 'absent' | 'torn' | 'foreign';
}

export function cleanShutdownPath(journalPath: string): string {
  return `${journalPath}${CLEAN_SHUTDOWN_SUFFIX}`;
}

/** Reads what is beside the journal, changing nothing; at most one record's bytes from each file. */
export function surveyCleanShutdown(io: Io, journalPath: string): CleanShutdownSurvey {
  const path = cleanShutdownPath(journalPath);
  const temporaryPath = `${journalPath}${CLEAN_SHUTDOWN_TEMPORARY_SUFFIX}`;
  const record = readSmall(io, path);
  const temporary = readSmall(io, temporaryPath);
  return {
    path,
    temporaryPath,
    found: record === null ? null : record.bytes === null ? { kind: 'foreign', reason: record.why } : decodeCleanShutdown(record.bytes),
    temporary: temporary === null ? 'absent' : temporary.bytes !== null && isTornCleanShutdown(temporary.bytes) ? 'torn' : 'foreign',
  };
}

/**
 * Why `record` does not describe the journal `file` holds now, or null when it does: the
 * file is exactly `end` bytes long and its last frame, re-read and checked (magic, length,
 * CRC-32C), is the one the record names. Reads one frame, whatever the journal's size.
 */
export function mismatchOf(file: IoFile, record: CleanShutdownRecord): string | null {
  const size = file.sizeSync();
  if (size !== record.end) return `the journal holds ${size} bytes, the record names ${record.end}`;
  if (record.records === 0) return null;
  // Bounded: the record's values were checked against RECORD_BYTES_MAX when it was decoded.
  const frame = new Uint8Array(record.end - record.lastFrameAt);
  if (file.readSync(frame, record.lastFrameAt) !== frame.length) return `the journal changed while its last frame was read`;
  const check = checkFrameAt(frame, 0, JOURNAL_FRAME_FORMAT);
  if (!check.ok || check.frameBytes !== frame.length) return `no frame ends the journal at ${record.lastFrameAt} (${check.ok ? 'another length' : check.state})`;
  const crc = new DataView(frame.buffer).getUint32(frame.length - 4, true);
  if (crc !== record.lastFrameCrc) return `the last frame has another CRC than the record names`;
  return null;
}

/** What open reports when it trusted the record instead of checking every frame. */
export function trustedReport(path: string, record: CleanShutdownRecord): RecoveryReport {
  const detail = `a clean close vouched for ${record.records} records; the last frame was re-read and checked, the others were not`;
  return { tailState: 'clean-end', validBytes: record.end, discardedBytes: 0, records: record.records, actions: [{ kind: 'trusted-clean-shutdown', path, offset: record.end, detail }] };
}

/**
 * The actions for what open found beside the journal; a writable open also does them.
 * Ours goes (the record trusted or not: it describes a state the journal is about to
 * leave, and a torn temporary of a close cut short); anything else at those names is not
 * the journal's and is left untouched. The caller syncs the directory afterwards, before
 * anything can be appended.
 */
export function settleCleanShutdown(io: Io, survey: CleanShutdownSurvey, trusted: boolean, mismatch: string | null, writable: boolean): RecoveryAction[] {
  const actions: RecoveryAction[] = [];
  const found = survey.found;
  if (found !== null && found.kind !== 'foreign') {
    if (writable) io.remove(survey.path);
    if (!trusted) actions.push({ kind: 'removed-file', path: survey.path, detail: `clean-shutdown record not trusted, the journal was checked in full: ${found.kind === 'record' ? mismatch : found.reason}` });
  } else if (found !== null) {
    actions.push({ kind: 'ignored-file', path: survey.path, detail: `not a clean-shutdown record (${found.reason}); left untouched, and no clean close can replace it` });
  }
  if (survey.temporary === 'torn') {
    if (writable) io.remove(survey.temporaryPath);
    actions.push({ kind: 'removed-temporary', path: survey.temporaryPath, detail: 'a clean-shutdown record whose write a crash cut short' });
  } else if (survey.temporary === 'foreign') {
    actions.push({ kind: 'ignored-file', path: survey.temporaryPath, detail: 'not a clean-shutdown record; left untouched, and no clean close can write beside it' });
  }
  return actions;
}

/** What close knows of the journal it holds: the end, the records, and where the last frame starts. */
export interface ClosedJournal {
  readonly end: number;
  readonly records: number;
  readonly lastFrameAt: number | null;
}

/**
 * Writes the record for a journal whose every byte is durable (close under a durability
 * that syncs, after its final sync): to a temporary, datasynced, renamed into place and
 * the directory synced. Returns false, writing nothing, when anything sits at either name
 * (only what is not the journal's can: open removed ours), when the journal does not end
 * as close believes, or when a write fails: the record only saves the next open time, so
 * its failure fails nothing (the next open checks every frame).
 */
export async function writeCleanShutdown(io: Io, journalPath: string, file: IoFile, journal: ClosedJournal): Promise<boolean> {
  const path = cleanShutdownPath(journalPath);
  const temporaryPath = `${journalPath}${CLEAN_SHUTDOWN_TEMPORARY_SUFFIX}`;
  try {
    const names = new Set(io.list(parentDir(journalPath)));
    // By name, not stat: a dangling symlink there is not ours to replace either.
    if (names.has(posix.basename(path)) || names.has(posix.basename(temporaryPath))) return false;
    const record = describe(file, journal);
    if (record === null) return false;
    await writeFileDurably(io, path, encodeCleanShutdown(record), { temporaryPath });
    return true;
  } catch (error) {
    if (isKeelError(error)) return false;
    throw error;
  }
}

/** The record for the journal as `file` holds it, or null when it does not end in the frame close believes is last. */
function describe(file: IoFile, journal: ClosedJournal): CleanShutdownRecord | null {
  const { end, records, lastFrameAt } = journal;
  if (file.sizeSync() !== end) return null;
  if (records === 0 || lastFrameAt === null) return records === 0 && end === 0 ? { end, records, lastFrameAt: 0, lastFrameCrc: 0 } : null;
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const trailer = new Uint8Array(4);
  if (file.readSync(header, lastFrameAt) !== header.length || file.readSync(trailer, end - 4) !== trailer.length) return null;
  const view = new DataView(header.buffer);
  if (view.getUint32(0, false) !== JOURNAL_FRAME_FORMAT.magic || view.getUint32(4, true) + FRAME_OVERHEAD_BYTES !== end - lastFrameAt) return null;
  return { end, records, lastFrameAt, lastFrameCrc: new DataView(trailer.buffer).getUint32(0, true) };
}

/** A file's bytes when it is a regular file of at most one record (else null bytes and why), or null when nothing is there. */
function readSmall(io: Io, path: string): { bytes: Uint8Array | null; why: string } | null {
  const stat = io.stat(path);
  if (stat === null) return null;
  if (!stat.isFile) return { bytes: null, why: 'it is not a regular file' };
  if (stat.size > CLEAN_SHUTDOWN_BYTES) return { bytes: null, why: `it holds ${stat.size} bytes, more than a record` };
  const bytes = new Uint8Array(stat.size);
  const file = io.open(path);
  try {
    return { bytes: bytes.subarray(0, file.readSync(bytes, 0)), why: '' };
  } finally {
    file.closeSync();
  }
}
