import {
  KeelError,
  checkFrameAt,
  isKeelError,
  cleanReport,
  findNextValidFrame,
  joinPath,
  recoverFrameLog,
  saveAndTruncateTail,
  type Io,
  type RecoveryReport,
} from '@keel/core';
import { HEADER_BYTES, HEADER_FORMAT, LOG_START_FILE_NAME, RECORD_FORMAT, checkHeaderPayload, parseSegmentFileName, segmentPaths } from './format.js';
import { encodeOffsetEntries, encodeTimeEntries, loadIndexFiles, openIndexFiles, rewriteIndexFiles, writeDurableEntries } from './index-files.js';
import type { NormalizedOptions } from './options.js';
import { readLogStart } from './log-start.js';
import { readRecordMeta } from './record-codec.js';
import { SealedFileCache } from './file-cache.js';
import { Segment, SparseIndex, lastAtOrBelow } from './segment.js';
import { checkHeader, createSegment, headerFrame } from './segment-files.js';
import { corruptAt, rebuildFromLog, scanRecords } from './segment-scan.js';
import { verifySegment } from './verify.js';

export interface RecoveredLog {
  segments: Segment[];
  report: RecoveryReport;
  files: SealedFileCache;
}

interface DirectoryListing {
  bases: number[];
  /** Files to remove once nothing can refuse the open, and why each is not needed. */
  leftovers: { name: string; detail: string }[];
}

const BELOW_START = 'segment file below the durable log-start checkpoint (interrupted deleteBefore)';
const ORPHAN = 'index file without its log (interrupted retention or creation)';

/**
 * The segments of `dir` at or above the durable log start. With a checkpoint, the first
 * of them must start exactly there: anything else is a hole (or a checkpoint not ours).
 */
function listSegments(io: Io, dir: string): DirectoryListing {
  const logStart = readLogStart(io, dir);
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
  for (const entry of indexes) if (!logs.has(entry.baseOffset)) leftovers.push({ name: entry.name, detail: ORPHAN });
  const bases = [...logs].sort((a, b) => a - b);
  if (logStart !== null && bases[0] !== logStart) {
    const path = joinPath(dir, LOG_START_FILE_NAME);
    throw new KeelError('KEEL_CORRUPT', `log-start checkpoint ${path} names offset ${logStart}, but no segment starts there (${bases.length === 0 ? 'no segments' : `first at ${bases[0]}`}); nothing was changed`, { path, offset: 0 });
  }
  return { bases, leftovers };
}

/**
 * Opens every segment of `dir` and brings the log to a state it can append to. Checks
 * that only read come first (headers, sealed segments, indexes), so a foreign or damaged
 * directory is refused before anything changes; then the active segment's tail is
 * recovered under the policy, stale indexes are rewritten and orphans removed.
 */
export async function recoverLog(dir: string, options: NormalizedOptions): Promise<RecoveredLog> {
  const { io } = options;
  const listing = listSegments(io, dir);
  const segments: Segment[] = [];
  const report = cleanReport();
  const files = new SealedFileCache();
  try {
    for (const [position, baseOffset] of listing.bases.entries()) {
      const paths = segmentPaths(dir, baseOffset);
      const active = position === listing.bases.length - 1;
      const segment = new Segment(baseOffset, paths, () => io.open(paths.log), files, active ? io.open(paths.log, { write: true }) : null);
      // Every segment but the last was sealed before the next one was created.
      segment.sealed = !active;
      segments.push(segment);
    }
    const sealed = segments.slice(0, -1);
    for (const segment of sealed) checkHeader(segment);
    const active = segments[segments.length - 1];
    const activeHeader = active === undefined ? 'ok' : classifyActiveHeader(active, options);
    const stale: Segment[] = [];
    for (const [position, segment] of sealed.entries()) {
      const nextBase = (segments[position + 1] as Segment).baseOffset;
      if (loadSealed(io, segment, nextBase, options)) stale.push(segment);
    }
    // The active segment may still refuse (damage mid-log): nothing was changed yet.
    if (active === undefined) {
      segments.push(createSegment(io, dir, 0, files));
      report.actions.push({ kind: 'created', path: (segments[0] as Segment).paths.log });
    } else {
      await recoverActive(io, active, activeHeader, options, report);
    }
    for (const segment of stale) {
      await rewriteIndexFiles(io, segment);
      segment.index.freeze();
      report.actions.push({ kind: 'rebuilt-index', path: segment.paths.offsetIndex, detail: 'index files disagreed with the sealed log' });
    }
    // Every entry found here is made durable before anything appended to it is
    // acknowledged: the process that created a segment may have died, or had its directory
    // sync fail, before the entry reached the disk. A rewritten index that was missing is
    // a new directory entry too.
    if (active !== undefined) await io.syncDir(dir);
    await removeLeftovers(io, dir, listing.leftovers, report);
  } catch (error) {
    for (const segment of segments) segment.closeFiles();
    throw error;
  }
  report.validBytes = segments.reduce((sum, segment) => sum + segment.size, 0);
  report.records = segments.reduce((sum, segment) => sum + segment.records, 0);
  return { segments, report, files };
}

function readHeaderWindow(segment: Segment): Uint8Array {
  const window = new Uint8Array(Math.min(HEADER_BYTES, segment.log.sizeSync()));
  segment.log.readSync(window, 0);
  return window;
}

type ActiveHeader = 'ok' | 'empty' | 'torn';

/**
 * A new segment's header is made durable before any record, so an active segment whose
 * header is missing is either empty, torn during creation (a prefix of the header it
 * should have, or zeros, with no record anywhere after), or not ours.
 */
function classifyActiveHeader(segment: Segment, options: NormalizedOptions): ActiveHeader {
  const size = segment.log.sizeSync();
  if (size === 0) return 'empty';
  const window = readHeaderWindow(segment);
  const check = checkFrameAt(window, 0, HEADER_FORMAT);
  if (check.ok && check.frameBytes === HEADER_BYTES) {
    checkHeaderPayload(window.subarray(8, 8 + check.payloadLength), segment.baseOffset, segment.paths.log);
    return 'ok';
  }
  const expected = headerFrame(segment.baseOffset);
  const isPrefix = window.every((byte, index) => byte === expected[index]);
  const isZero = window.every((byte) => byte === 0);
  if ((isPrefix || isZero) && findNextValidFrame(segment.log, RECORD_FORMAT, 0, size) === null) {
    if (options.recovery === 'strict') throw corruptAt(segment, 0, 'torn segment header; opened strict, nothing was changed');
    return 'torn';
  }
  throw corruptAt(segment, 0, 'no segment header; the file is not ours or is damaged, and was left untouched');
}

/**
 * Loads a sealed segment; returns true when its index files must be rewritten. With
 * `verifyOnOpen` every frame is read too, so damage anywhere is refused here rather
 * than found by a later read.
 */
function loadSealed(io: Io, segment: Segment, nextBase: number, options: NormalizedOptions): boolean {
  const records = nextBase - segment.baseOffset;
  const fileSize = segment.log.sizeSync();
  if (records <= 0) throw corruptAt(segment, 0, `segment overlaps the next one at ${nextBase}`);
  const loaded = loadIndexFiles(io, segment, fileSize, records);
  segment.sealed = true;
  if (loaded !== null && applyCheckedIndex(segment, loaded.index, fileSize, records)) {
    segment.minTimestamp = loaded.minTimestamp;
    if (!options.verifyOnOpen) return false;
    try {
      verifySegment(segment);
      return false;
    } catch (error) {
      // Damage in the log is refused; an index that disagrees with a sound log is rebuilt.
      if (!isKeelError(error, 'KEEL_CORRUPT') || error.path === segment.paths.log) throw error;
    }
  }
  segment.index = new SparseIndex();
  segment.records = 0;
  segment.minTimestamp = undefined;
  segment.maxTimestamp = -Infinity;
  segment.maxTimestampRelative = -1;
  rebuildFromLog(segment, fileSize, records, options.indexIntervalBytes, HEADER_BYTES);
  segment.addSealTimeEntry();
  segment.durableBytes = segment.size;
  return true;
}

/**
 * The cheap check of a sealed segment: the records after the last offset-index entry
 * must run to the end of the file and end at the offset before the next segment, and
 * the last time-index entry must name a record with that timestamp, the largest one.
 */
function applyCheckedIndex(segment: Segment, index: SparseIndex, fileSize: number, records: number): boolean {
  const lastTime = index.timeRelative.length - 1;
  if (lastTime < 0) return false;
  const timeRelative = index.timeRelative[lastTime] as number;
  const timeTimestamp = index.timeTimestamp[lastTime] as number;
  const lastOffset = index.offsetRelative.length - 1;
  const startRelative = lastOffset < 0 ? 0 : (index.offsetRelative[lastOffset] as number);
  const tailStart = index.positionFor(startRelative);
  let timestampOfNamed: number | undefined;
  let tailMax = -Infinity;
  let tailCount = 0;
  const tail = scanRecords(segment, tailStart, segment.baseOffset + startRelative, fileSize, (record) => {
    tailCount++;
    tailMax = Math.max(tailMax, record.timestamp);
    if (record.offset === segment.baseOffset + timeRelative) timestampOfNamed = record.timestamp;
  });
  if (tail.misnumberedAt !== null || tail.tailState !== 'clean-end' || tail.end !== fileSize) return false;
  if (startRelative + tailCount !== records || tailMax > timeTimestamp) return false;
  if (timestampOfNamed === undefined) timestampOfNamed = timestampAt(segment, index, timeRelative);
  if (timestampOfNamed !== timeTimestamp) return false;
  index.freeze();
  segment.index = index;
  segment.records = records;
  segment.size = fileSize;
  segment.durableBytes = fileSize;
  segment.maxTimestamp = timeTimestamp;
  segment.maxTimestampRelative = timeRelative;
  return true;
}

function timestampAt(segment: Segment, index: SparseIndex, relative: number): number | undefined {
  const entry = lastAtOrBelow(index.offsetRelative, relative);
  const startRelative = entry < 0 ? 0 : (index.offsetRelative[entry] as number);
  let found: number | undefined;
  scanRecords(segment, index.positionFor(relative), segment.baseOffset + startRelative, segment.log.sizeSync(), (record) => {
    if (record.offset < segment.baseOffset + relative) return true;
    found = record.timestamp;
    return false;
  });
  return found;
}

async function recoverActive(io: Io, segment: Segment, header: ActiveHeader, options: NormalizedOptions, report: RecoveryReport): Promise<void> {
  if (header === 'torn') {
    const size = segment.log.sizeSync();
    const saved = await saveAndTruncateTail(io, segment.log, 0, size);
    Object.assign(report, { tailState: 'truncated-header', discardedBytes: size, savedTailPath: saved });
    report.actions.push({ kind: 'saved-tail', path: saved, offset: 0, bytes: size }, { kind: 'truncated-tail', path: segment.paths.log, offset: 0, bytes: size, detail: 'torn segment header' });
  }
  if (header !== 'ok') segment.log.writeSync(headerFrame(segment.baseOffset), 0);
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
    format: RECORD_FORMAT,
    policy: options.recovery,
    from: HEADER_BYTES,
    // Thrown during the survey, before recovery acts on the tail: a refused open changes nothing.
    onFrame: (frame) => {
      const meta = readRecordMeta(frame.payload);
      if (meta === null || meta.offset !== segment.nextOffset) throw corruptAt(segment, frame.offset, `record does not carry offset ${segment.nextOffset}`);
      segment.observe(meta.timestamp, frame.offset, frame.end, options.indexIntervalBytes);
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
 * checkpoint that condemns segments below it is durable before any of them goes.
 */
async function removeLeftovers(io: Io, dir: string, leftovers: DirectoryListing['leftovers'], report: RecoveryReport): Promise<void> {
  if (leftovers.length === 0) return;
  if (leftovers.some((entry) => entry.detail === BELOW_START)) await io.syncDir(dir);
  for (const { name, detail } of leftovers) {
    io.remove(joinPath(dir, name));
    report.actions.push({ kind: 'removed-file', path: joinPath(dir, name), detail });
  }
  await io.syncDir(dir);
}
