import { KeelError, parentDir, recoverFrameLog, type IoFile, type RecoveryReport } from '@keel/core';
import { mismatchOf, settleCleanShutdown, surveyCleanShutdown, trustedReport } from './clean-shutdown.js';
import { DIRECT_IO_ALIGNMENT_BYTES, JOURNAL_FRAME_FORMAT, alignDown } from './format.js';
import { LogBuffer } from './log-buffer.js';
import type { NormalizedJournalOptions } from './options.js';
import { AlignedStorage, PlainStorage } from './storage.js';

/** The files and buffer of an opened, recovered journal. */
export interface OpenedJournal {
  /** Holds the lock; every read, truncate and (when not direct) write goes through it. */
  file: IoFile;
  /** The O_DIRECT handle when direct IO is in effect, else `file`. */
  writeFile: IoFile;
  buffer: LogBuffer;
  recovery: RecoveryReport;
  /** Every byte below this is known durable: what open synced, or nothing under 'none'. */
  durableThrough: number;
  /** Where the last frame starts (null: the journal is empty), for the clean-shutdown record close writes. */
  lastFrameAt: number | null;
}

/**
 * Locks, recovers and prepares a journal for appends. Appends continue at the end of
 * the last valid frame, never at the file length (fsys resumed at the length, behind a
 * torn tail). A foreign or corrupt file is refused before anything is written to it.
 * After a clean close the clean-shutdown record stands in for the full check while the
 * journal still ends as it says (see clean-shutdown.ts); a read-only open may use it
 * too, and leaves it where it is.
 */
export async function openJournalFiles(path: string, options: NormalizedJournalOptions): Promise<OpenedJournal> {
  const { io } = options;
  const existed = io.stat(path) !== null;
  const file = io.open(path, { create: true, lock: true });
  let writeFile = file;
  try {
    const { recovery, lastFrameAt, trusted } = await recoverOrTrust(path, file, options);
    let durableThrough = 0;
    // The file's directory entry must be durable before anything in it can be: a new one,
    // and one found here too — the process that created it may have died, or had its
    // directory sync fail, before the entry reached the disk. The same sync makes the
    // removal of a clean-shutdown record durable before the first append.
    await io.syncDir(parentDir(path));
    if (!existed) {
      recovery.actions.push({ kind: 'created', path });
    } else if (options.durability.mode !== 'none' && recovery.validBytes > 0) {
      // Bytes a previous process wrote without syncing may still be only in the page cache;
      // a trusted clean-shutdown record proves its close synced every one of them.
      if (!trusted) await file.datasync();
      durableThrough = recovery.validBytes;
    }
    if (options.direct) writeFile = openDirect(path, options, file);
    const buffer = createBuffer(file, writeFile !== file, recovery.validBytes);
    if (options.preallocate > 0) file.preallocateSync(recovery.validBytes, options.preallocate);
    return { file, writeFile, buffer, recovery, durableThrough, lastFrameAt };
  } catch (error) {
    if (writeFile !== file) writeFile.closeSync();
    file.closeSync();
    throw error;
  }
}

/**
 * The recovery report: from the clean-shutdown record while it describes the journal,
 * else from the full check (which may refuse, changing nothing). Only once the report
 * stands does a writable open remove what it found beside the journal.
 */
async function recoverOrTrust(path: string, file: IoFile, options: NormalizedJournalOptions): Promise<{ recovery: RecoveryReport; lastFrameAt: number | null; trusted: boolean }> {
  const { io } = options;
  const survey = surveyCleanShutdown(io, path);
  const record = survey.found?.kind === 'record' ? survey.found.record : null;
  const mismatch = record === null ? null : mismatchOf(file, record);
  let recovery: RecoveryReport;
  let lastFrameAt: number | null = null;
  if (record !== null && mismatch === null) {
    recovery = trustedReport(survey.path, record);
    lastFrameAt = record.records === 0 ? null : record.lastFrameAt;
  } else {
    // No file header: a torn first write is told from a foreign file by core.
    const onLastFrame = (offset: number | null): void => {
      lastFrameAt = offset;
    };
    recovery = await recoverFrameLog({ io, file, format: JOURNAL_FRAME_FORMAT, policy: options.recovery, foreignIfBadStart: true, onLastFrame });
  }
  const trusted = record !== null && mismatch === null;
  recovery.actions.push(...settleCleanShutdown(io, survey, trusted, mismatch, !options.readOnly));
  return { recovery, lastFrameAt, trusted };
}

/** A second handle with O_DIRECT, or the locked handle itself where the file system refuses it. */
function openDirect(path: string, options: NormalizedJournalOptions, file: IoFile): IoFile {
  const direct = options.io.open(path, { write: true, direct: true });
  if (direct.isDirect) return direct;
  direct.closeSync();
  return file;
}

/** In direct mode the partial last block is read back so that the next write rewrites it whole. */
function createBuffer(file: IoFile, direct: boolean, end: number): LogBuffer {
  if (!direct) return new LogBuffer(new PlainStorage(64 * 1024), 1, end);
  const start = alignDown(end, DIRECT_IO_ALIGNMENT_BYTES);
  const resident = new Uint8Array(end - start);
  if (file.readSync(resident, start) !== resident.length) throw new KeelError('KEEL_CORRUPT', `${file.path} changed while it was opened: short read of its last block`, { path: file.path, offset: start });
  return new LogBuffer(new AlignedStorage(DIRECT_IO_ALIGNMENT_BYTES * 16), DIRECT_IO_ALIGNMENT_BYTES, start, resident);
}
