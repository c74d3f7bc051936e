import { KeelError, checkFrameAt, cleanReport, joinPath, recoverFrameLog, removeIfPresent, saveAndTruncateTail, savedTailPath, type Io, type RecoveryReport } from '@keel/core';
import { CLEAN_SHUTDOWN_FILE_NAME, CLEAN_SHUTDOWN_TEMPORARY_NAME, HEADER_BYTES, HEADER_FORMAT, LOG_START_FILE_NAME, LOG_START_TEMPORARY_NAME, PREPARED_SEGMENT_NAME, BATCH_FORMAT, SEALED_CHECKPOINT_FILE_NAME, parseSegmentFileName, segmentPaths } from './format.js';
import { surveyPrepared } from './prepared-segment.js';
import { readCleanShutdown, removeCleanShutdown } from './clean-shutdown.js';
import { IDENTITY, IDENTITY_FILE_NAME } from './store-identity.js';
import { encodeOffsetEntries, encodeTimeEntries, openIndexFiles, rewriteIndexFiles, writeDurableEntries } from './index-files.js';
import type { NormalizedOptions } from './options.js';
import { readLogStart } from './log-start.js';
import { SealedFileCache } from './file-cache.js';
import { surveySegments, type HeaderState } from './recovery-survey.js';
import { SealedCheckpoint, createSealedCheckpoint, readSealedCheckpoint, settleSealedCheckpoint } from './sealed-checkpoint.js';
import { Segment } from './segment.js';
import { createSegment, headerFrame, refuseOlderFormat } from './segment-files.js';
import { corruptAt, forEachRecord } from './segment-scan.js';

export interface RecoveredLog {
  segments: Segment[];
  report: RecoveryReport;
  files: SealedFileCache;
  /** Open for the flushes that advance it, naming the active segment's base offset. */
  sealedCheckpoint: SealedCheckpoint;
}

interface DirectoryListing {
  bases: number[];
  /** Files to remove once nothing can refuse the open, and why each is not needed. */
  leftovers: { name: string; detail: string }[];
  /** Bytes of a prepared file whose header a crash tore with bytes behind it: set aside (renamed to `.torn-0`). */
  tornPrepared: number | null;
  /** The base offset of a segment found under the prepared file's name (a crash came before its rename), else null. */
  prepared: number | null;
}

const BELOW_START = 'segment file below the durable log-start checkpoint (interrupted deleteBefore)';
const ORPHAN = 'index file without its log (interrupted retention or creation)';
const UNUSED_PREPARED = 'the next segment file, prepared ahead of a roll that never came';

/**
 * The segments of `dir` at or above the durable log start. With a checkpoint, the first
 * of them must start exactly there: anything else is a hole (or a checkpoint not ours).
 */
function listSegments(io: Io, dir: string, storeId: Uint8Array): DirectoryListing {
  const logStart = readLogStart(io, dir, storeId);
  const start = logStart ?? 0;
  const logs = new Set<number>();
  const indexes: { baseOffset: number; name: string }[] = [];
  const leftovers: DirectoryListing['leftovers'] = [];
  for (const name of io.list(dir)) {
    const parsed = parseSegmentFileName(name);
    if (parsed === null) continue;
    if (parsed.baseOffset < start) leftovers.push({ name, detail: BELOW_START });
    else if (parsed.kind === 'log') logs.add(parsed.baseOffset);
    else indexes.push({ baseOffset: parsed.baseOffset, name });
  }
  const found = surveyPrepared(io, dir, storeId);
  const prepared = found.kind === 'segment' ? preparedSegmentOf(dir, found.baseOffset, start, logs, leftovers) : null;
  if (found.kind === 'unused') leftovers.push({ name: PREPARED_SEGMENT_NAME, detail: UNUSED_PREPARED });
  for (const entry of indexes) if (!logs.has(entry.baseOffset)) leftovers.push({ name: entry.name, detail: ORPHAN });
  const bases = [...logs].sort((a, b) => a - b);
  if (logStart !== null && bases[0] !== logStart) {
    const path = joinPath(dir, LOG_START_FILE_NAME);
    throw new KeelError('KEEL_CORRUPT', `log-start checkpoint ${path} names offset ${logStart}, but no segment starts there (${bases.length === 0 ? 'no segments' : `first at ${bases[0]}`}); nothing was changed`, { path, offset: 0 });
  }
  return { bases, leftovers, prepared, tornPrepared: found.kind === 'torn' ? found.bytes : null };
}

/**
 * A prepared file a roll used is the segment its header names (added to `logs`), unless
 * that segment is below the log start (a leftover) or has a `.log` of its own too
 * (refused: two files claim one segment). Returns its base offset, else null.
 */
function preparedSegmentOf(dir: string, baseOffset: number, start: number, logs: Set<number>, leftovers: DirectoryListing['leftovers']): number | null {
  if (baseOffset < start) {
    leftovers.push({ name: PREPARED_SEGMENT_NAME, detail: BELOW_START });
    return null;
  }
  const path = joinPath(dir, PREPARED_SEGMENT_NAME);
  if (logs.has(baseOffset)) throw new KeelError('KEEL_CORRUPT', `${path} holds the header of segment ${baseOffset}, which has its own .log too; nothing was changed`, { path, offset: 0 });
  logs.add(baseOffset);
  return baseOffset;
}

/**
 * Opens every segment of `dir` and brings the log to a state it can append to. Checks
 * that only read come first (headers, sealed segments, indexes; see `surveySegments`), so
 * a foreign or damaged directory is refused before anything changes; then the active
 * segment's tail is recovered under the policy (the last step that can refuse), segments
 * after it (a roll that never became durable) are set aside, stale indexes are rewritten,
 * orphans removed, and the directory synced: everything open found is durable before it
 * claims it.
 */
export async function recoverLog(dir: string, options: NormalizedOptions): Promise<RecoveredLog> {
  const { io } = options;
  const report = cleanReport();
  const storeId = await storeIdentity(io, dir, report);
  const listing = listSegments(io, dir, storeId);
  const cleanEnd = readCleanShutdown(io, dir, storeId);
  const checkpoint = readSealedCheckpoint(io, dir, storeId);
  const files = new SealedFileCache();
  // Where each segment's log is now: the prepared file's path for one found under it, until it is renamed.
  const logPaths = new Map<number, string>(listing.bases.map((baseOffset) => [baseOffset, baseOffset === listing.prepared ? joinPath(dir, PREPARED_SEGMENT_NAME) : segmentPaths(dir, baseOffset).log]));
  const found = listing.bases.map((baseOffset) => {
    const segment = new Segment(baseOffset, segmentPaths(dir, baseOffset), () => io.open(logPaths.get(baseOffset) as string), files);
    segment.storeId = storeId;
    return segment;
  });
  let active: Segment | null = null;
  let sealedCheckpoint: SealedCheckpoint | null = null;
  try {
    const survey = surveySegments(io, found, options, checkpoint.offset);
    if (options.recovery === 'strict' && listing.tornPrepared !== null) {
      const path = joinPath(dir, PREPARED_SEGMENT_NAME);
      throw new KeelError('KEEL_CORRUPT', `${path} holds a torn segment header with bytes behind it; opened strict, nothing was changed`, { path, offset: 0 });
    }
    if (options.recovery === 'strict' && survey.discarded.length > 0) {
      const first = survey.discarded[0] as Segment;
      throw corruptAt(first, 0, `segments from here on follow one whose end was never made durable; opened strict, nothing was changed`);
    }
    if (survey.active === null) {
      active = createSegment(io, dir, 0, files, storeId);
      openIndexFiles(io, active, true);
      await active.log.datasync();
      active.durableBytes = active.size;
      report.actions.push({ kind: 'created', path: active.paths.log });
    } else {
      const { segment, header } = survey.active;
      segment.closeFiles();
      active = new Segment(segment.baseOffset, segment.paths, () => io.open(segment.paths.log), files, io.open(logPaths.get(segment.baseOffset) as string, { write: true }));
      active.storeId = storeId;
      // The active segment may still refuse (damage mid-log): nothing was changed yet.
      await recoverActive(io, active, header, options, report);
    }
    setAside(io, survey.discarded, logPaths, report);
    if (listing.tornPrepared !== null) setAsideFile(io, joinPath(dir, PREPARED_SEGMENT_NAME), listing.tornPrepared, report, 'the next segment file, whose header a crash tore before any record of it was whole');
    await removeLeftovers(io, dir, listing.leftovers, report);
    // Last of the changes that can be refused before: a kept segment found under the prepared name takes its own.
    if (listing.prepared !== null && !survey.discarded.some((segment) => segment.baseOffset === listing.prepared)) takeOwnName(io, dir, listing.prepared, logPaths, report);
    createSealedCheckpoint(io, dir, checkpoint);
    // A roll's new segment may have been created without a directory sync: every entry
    // open found is made durable before it claims anything, and before a sealed frame below.
    await io.syncDir(dir);
    // After a clean close that named exactly this end, every sealed segment is durable
    // already; otherwise open makes them durable itself.
    const closedCleanly = cleanEnd !== null && cleanEnd === active.nextOffset && survey.discarded.length === 0;
    if (!closedCleanly) {
      const rescanned = new Set(survey.rescanned);
      await syncAdopted(io, survey.sealed.filter((segment) => !rescanned.has(segment)));
    }
    await rewriteRescanned(io, dir, survey.rescanned, report);
    // Every segment before the active one is durable now.
    sealedCheckpoint = await settleSealedCheckpoint(io, dir, storeId, checkpoint, active.baseOffset);
    // Last, so that an open refused above leaves it; its removal is durable before anything is appended.
    if (cleanEnd !== null) {
      removeCleanShutdown(io, dir);
      await io.syncDir(dir);
    }
    const segments = [...survey.sealed, active];
    report.validBytes = segments.reduce((sum, segment) => sum + segment.size, 0);
    report.records = segments.reduce((sum, segment) => sum + segment.records, 0);
    return { segments, report, files, sealedCheckpoint };
  } catch (error) {
    for (const segment of found) segment.closeFiles();
    active?.closeFiles();
    sealedCheckpoint?.closeSync();
    throw error;
  }
}

/**
 * Renames a segment found under the prepared file's name to its own: a crash came after
 * the roll that used the file and before its rename was durable. Until here recovery
 * reads and repairs it under the prepared name (a tail it cuts is saved beside that file).
 */
function takeOwnName(io: Io, dir: string, baseOffset: number, logPaths: Map<number, string>, report: RecoveryReport): void {
  const to = segmentPaths(dir, baseOffset).log;
  io.rename(joinPath(dir, PREPARED_SEGMENT_NAME), to);
  logPaths.set(baseOffset, to);
  report.actions.push({ kind: 'completed-switch', path: to, detail: `segment ${baseOffset}, started in ${PREPARED_SEGMENT_NAME} by a roll whose rename a crash cut short, took its own name` });
}

/**
 * The store's id. A directory that holds no file of a log yet becomes one: its identity
 * is written durably (replacing only our own torn creation of it) before any segment or
 * checkpoint can name it. Where segments or a checkpoint exist, the identity must be
 * whole: they were written after it, so a missing or torn one was lost, not unwritten,
 * and the open is refused (a log of segment format 1, from before identities, is named
 * as such when its first segment is surveyed).
 */
async function storeIdentity(io: Io, dir: string, report: RecoveryReport): Promise<Uint8Array> {
  const identity = IDENTITY.survey(io, dir);
  if (identity.state === 'valid') return identity.storeId;
  if (identity.state === 'foreign') throw IDENTITY.foreignError(dir, identity.reason);
  const logFiles = io.list(dir).filter((name) => parseSegmentFileName(name) !== null || [LOG_START_FILE_NAME, LOG_START_TEMPORARY_NAME, CLEAN_SHUTDOWN_FILE_NAME, CLEAN_SHUTDOWN_TEMPORARY_NAME, PREPARED_SEGMENT_NAME, SEALED_CHECKPOINT_FILE_NAME].includes(name));
  if (logFiles.length > 0) {
    const first = logFiles.sort()[0] as string;
    const path = joinPath(dir, first);
    refuseOlderSegment(io, dir, logFiles);
    throw new KeelError('KEEL_CORRUPT', `${path} belongs to a log whose identity file ${joinPath(dir, IDENTITY_FILE_NAME)} (written before any segment) is ${identity.state === 'torn' ? 'torn' : 'missing'}: the log's identity was lost; nothing was changed`, { path, offset: 0 });
  }
  const storeId = await IDENTITY.write(io, dir, identity.state === 'torn');
  report.actions.push({ kind: 'created', path: joinPath(dir, IDENTITY_FILE_NAME) });
  return storeId;
}

/** A log written before identities has version-1 segment headers: its open is refused naming that format. */
function refuseOlderSegment(io: Io, dir: string, names: readonly string[]): void {
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.kind !== 'log') continue;
    const paths = segmentPaths(dir, parsed.baseOffset);
    const segment = new Segment(parsed.baseOffset, paths, () => io.open(paths.log), new SealedFileCache());
    try {
      const window = new Uint8Array(Math.min(HEADER_BYTES, segment.log.sizeSync()));
      segment.log.readSync(window, 0);
      const check = checkFrameAt(window, 0, HEADER_FORMAT);
      if (check.ok) refuseOlderFormat(segment, window.subarray(8, 8 + check.payloadLength));
    } finally {
      segment.closeFiles();
    }
  }
}

/** How many adopted segments open syncs at a time: enough to keep the threadpool busy, few enough open files. */
const ADOPTED_SYNC_BATCH = 16;

/**
 * Sealed segments whose index vouched for them hold what an earlier process wrote, but a
 * process that died inside its flush leaves both log and index in the page cache only.
 * The index is what proves, after a later power loss, that the log was sealed durably
 * (damage to it is then refused, not cut with every segment after it), so open makes
 * both durable before it claims anything on top of them.
 */
async function syncAdopted(io: Io, adopted: readonly Segment[]): Promise<void> {
  for (let from = 0; from < adopted.length; from += ADOPTED_SYNC_BATCH) {
    await Promise.all(adopted.slice(from, from + ADOPTED_SYNC_BATCH).map((segment) => syncSegmentFiles(io, segment)));
  }
}

async function syncSegmentFiles(io: Io, segment: Segment): Promise<void> {
  const indexes = [segment.paths.offsetIndex, segment.paths.timeIndex].map((path) => io.open(path));
  try {
    await Promise.all([segment.log.datasync(), ...indexes.map((file) => file.datasync())]);
  } finally {
    for (const file of indexes) file.closeSync();
  }
}

/**
 * Sealed segments whose index could not vouch for them were read whole: their log is
 * synced (a process that died before its flush left it in the page cache only) before
 * their sealed frames are written, since those frames say the log is durable.
 */
async function rewriteRescanned(io: Io, dir: string, rescanned: readonly Segment[], report: RecoveryReport): Promise<void> {
  if (rescanned.length === 0) return;
  for (const segment of rescanned) {
    await segment.log.datasync();
    segment.durableBytes = segment.size;
    await rewriteIndexFiles(io, segment);
    segment.index.freeze();
    report.actions.push({ kind: 'rebuilt-index', path: segment.paths.offsetIndex, detail: 'index files disagreed with the sealed log' });
  }
  // A rewritten index file that was missing is a new directory entry.
  await io.syncDir(dir);
}

/**
 * Sets aside, newest first, the segments after the active one: each `.log` is renamed to
 * `<name>.log.torn-0` (its bytes kept, as a cut tail is) and its index files removed. A
 * crash part-way leaves a prefix of them, which the next open sets aside the same way.
 */
function setAside(io: Io, discarded: readonly Segment[], logPaths: ReadonlyMap<number, string>, report: RecoveryReport): void {
  for (const segment of [...discarded].reverse()) {
    const bytes = segment.log.sizeSync();
    segment.closeFiles();
    setAsideFile(io, logPaths.get(segment.baseOffset) as string, bytes, report, 'a segment after one whose end never became durable: nothing in it was acknowledged');
    removeIfPresent(io, segment.paths.offsetIndex);
    removeIfPresent(io, segment.paths.timeIndex);
  }
}

/** Renames a file whose bytes nothing acknowledged to `<path>.torn-0` (or a fresh variant): kept, out of the log's way. */
function setAsideFile(io: Io, path: string, bytes: number, report: RecoveryReport, detail: string): void {
  const saved = freshSavedPath(io, savedTailPath(path, 0));
  io.rename(path, saved);
  report.discardedBytes += bytes;
  report.actions.push({ kind: 'saved-tail', path: saved, offset: 0, bytes }, { kind: 'removed-file', path, detail });
}

/** `path`, or `path.<n>` for the first n no file has: a saved tail never replaces anything. */
function freshSavedPath(io: Io, path: string): string {
  let fresh = path;
  for (let n = 1; io.stat(fresh) !== null; n++) fresh = `${path}.${n}`;
  return fresh;
}

async function recoverActive(io: Io, segment: Segment, header: HeaderState, options: NormalizedOptions, report: RecoveryReport): Promise<void> {
  if (header === 'torn') {
    const size = segment.log.sizeSync();
    const saved = await saveAndTruncateTail(io, segment.log, 0, size);
    Object.assign(report, { tailState: 'truncated-header', discardedBytes: size, savedTailPath: saved });
    report.actions.push({ kind: 'saved-tail', path: saved, offset: 0, bytes: size }, { kind: 'truncated-tail', path: segment.paths.log, offset: 0, bytes: size, detail: 'torn segment header' });
  }
  if (header !== 'ok') segment.log.writeSync(headerFrame(segment.baseOffset, segment.storeId), 0);
  else await recoverActiveRecords(io, segment, options, report);
  await segment.log.datasync();
  segment.durableBytes = segment.size;
  const matches = indexFilesArePrefix(io, segment);
  openIndexFiles(io, segment, true);
  writeDurableEntries(segment);
  if (!matches) report.actions.push({ kind: 'rebuilt-index', path: segment.paths.offsetIndex, detail: 'active segment index rebuilt from the log' });
}

async function recoverActiveRecords(io: Io, segment: Segment, options: NormalizedOptions, report: RecoveryReport): Promise<void> {
  const tail = await recoverFrameLog({
    io,
    file: segment.log,
    format: BATCH_FORMAT,
    policy: options.recovery,
    from: HEADER_BYTES,
    // Thrown during the survey, before recovery acts on the tail: a refused open changes nothing.
    onFrame: (frame) => {
      const records = forEachRecord(frame.payload, segment.nextOffset, (_offset: number, timestamp: number) => {
        segment.observe(timestamp, frame.offset, frame.end, options.indexIntervalBytes);
      });
      if (records < 0) throw corruptAt(segment, frame.offset, `batch does not start at offset ${segment.nextOffset} or is malformed`);
    },
  });
  report.tailState = tail.tailState;
  report.discardedBytes += tail.discardedBytes;
  if (tail.savedTailPath !== undefined) report.savedTailPath = tail.savedTailPath;
  report.actions.push(...tail.actions);
}

/** Whether the active segment's index files hold a prefix of what the log says they should. */
function indexFilesArePrefix(io: Io, segment: Segment): boolean {
  const index = segment.index;
  const expectations: [string, Uint8Array][] = [
    [segment.paths.offsetIndex, encodeOffsetEntries(index, 0, index.offsetRelative.length)],
    [segment.paths.timeIndex, encodeTimeEntries(index, 0, index.timeRelative.length)],
  ];
  for (const [path, expected] of expectations) {
    const stat = io.stat(path);
    if (stat === null || stat.size > expected.length) return false;
    const file = io.open(path);
    try {
      const bytes = new Uint8Array(stat.size);
      file.readSync(bytes, 0);
      if (!bytes.every((byte, position) => byte === expected[position])) return false;
    } finally {
      file.closeSync();
    }
  }
  return true;
}

/**
 * Removes files the listing proved unneeded. The directory is synced first, so the
 * checkpoint that condemns segments below it is durable before any of them goes; the
 * directory sync that ends recovery makes the removals durable.
 */
async function removeLeftovers(io: Io, dir: string, leftovers: DirectoryListing['leftovers'], report: RecoveryReport): Promise<void> {
  if (leftovers.length === 0) return;
  if (leftovers.some((entry) => entry.detail === BELOW_START)) await io.syncDir(dir);
  for (const { name, detail } of leftovers) {
    io.remove(joinPath(dir, name));
    report.actions.push({ kind: 'removed-file', path: joinPath(dir, name), detail });
  }
}
