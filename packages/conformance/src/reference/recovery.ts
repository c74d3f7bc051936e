import {
  FrameScanner,
  KeelError,
  decodeFrame,
  findNextValidFrame,
  joinPath,
  recoverFrameLog,
  type Io,
  type IoFile,
  type RecoveryPolicy,
  type RecoveryReport,
  type TailState,
} from '@keel/core';
import type { ReferenceFlaws } from './flaws.js';
import { INDEX_FORMAT, REFERENCE_FORMAT, decodeCount, indexName, segmentBases, segmentName } from './format.js';
import { writeIndex } from './index-file.js';
import { copyBytes } from '../file-image.js';

export interface LoadedLog {
  bases: number[];
  records: Uint8Array[];
  active: IoFile;
  activeBytes: number;
  report: RecoveryReport;
}

/**
 * Opens every segment: sealed ones must be whole (checked against their index, which is
 * rebuilt when missing or damaged); the active one has its torn tail cut under `policy`.
 */
export async function loadLog(io: Io, dir: string, policy: RecoveryPolicy, flaws: ReferenceFlaws): Promise<LoadedLog> {
  const bases = segmentBases(io.list(dir));
  const report: RecoveryReport = { tailState: 'clean-end', validBytes: 0, discardedBytes: 0, records: 0, actions: [] };
  if (bases.length === 0) {
    const path = joinPath(dir, segmentName(0));
    const active = io.open(path, { create: true });
    if (!flaws.skipDirectorySync) await io.syncDir(dir);
    report.actions.push({ kind: 'created', path });
    return { bases: [0], records: [], active, activeBytes: 0, report };
  }
  const records: Uint8Array[] = [];
  let activeBase = bases[bases.length - 1] as number;
  for (const base of bases.slice(0, -1)) {
    const before = records.length;
    if (await loadSealed(io, dir, base, records, report, flaws)) continue;
    // The truncate-on-any-corruption flaw: the damaged segment becomes the end of the log.
    records.length = before;
    for (const later of bases.filter((other) => other > base)) io.remove(joinPath(dir, segmentName(later)));
    await io.syncDir(dir);
    activeBase = base;
    break;
  }
  const active = io.open(joinPath(dir, segmentName(activeBase)), { write: true });
  const activeBytes = await recoverActive(io, active, policy, flaws, records, report);
  // A segment found here may have been created by a process whose directory sync failed
  // or never ran: its entry is made durable before anything appended to it is acknowledged.
  if (!flaws.skipDirectorySync) await io.syncDir(dir);
  report.records = records.length;
  return { bases, records, active, activeBytes, report };
}

/** Loads a sealed segment; false when the truncate-on-any-corruption flaw cut the log there. */
async function loadSealed(io: Io, dir: string, base: number, records: Uint8Array[], report: RecoveryReport, flaws: ReferenceFlaws): Promise<boolean> {
  const path = joinPath(dir, segmentName(base));
  const file = io.open(path);
  try {
    const before = records.length;
    const scan = scanFrames(file, flaws, (payload) => records.push(payload));
    report.validBytes += scan.validBytes;
    if (scan.tailState !== 'clean-end' && flaws.truncateOnAnyCorruption) return false;
    if (scan.tailState !== 'clean-end' && !flaws.skipBadRecords) {
      throw new KeelError('KEEL_CORRUPT', `sealed segment ${path} is damaged at offset ${scan.validBytes} (${scan.tailState})`, { path, offset: scan.validBytes });
    }
    const frames = records.length - before;
    const indexed = readIndex(io, joinPath(dir, indexName(base)));
    if (indexed !== null && indexed > frames) {
      throw new KeelError('KEEL_CORRUPT', `index of ${path} lists ${indexed} records but the segment holds ${frames}`, { path, offset: scan.validBytes });
    }
    if (indexed !== frames) {
      await writeIndex(io, dir, base, frames, flaws);
      report.actions.push({ kind: 'rebuilt-index', path: joinPath(dir, indexName(base)) });
    }
    return true;
  } finally {
    file.closeSync();
  }
}

async function recoverActive(io: Io, file: IoFile, policy: RecoveryPolicy, flaws: ReferenceFlaws, records: Uint8Array[], report: RecoveryReport): Promise<number> {
  if (flaws.skipBadRecords) {
    const scan = scanFrames(file, flaws, (payload) => records.push(payload));
    file.setLengthSync(scan.validBytes);
    await file.datasync();
    report.validBytes += scan.validBytes;
    return scan.validBytes;
  }
  const tail = await recoverFrameLog({
    io,
    file,
    format: REFERENCE_FORMAT,
    policy: flaws.truncateOnAnyCorruption ? 'salvage' : policy,
    onFrame: (frame) => records.push(copyBytes(frame.payload)),
  });
  report.tailState = tail.tailState;
  report.validBytes += tail.validBytes;
  report.discardedBytes += tail.discardedBytes;
  if (tail.savedTailPath !== undefined) report.savedTailPath = tail.savedTailPath;
  report.actions.push(...tail.actions);
  return tail.validBytes;
}

interface Scan {
  validBytes: number;
  tailState: TailState;
}

/** Scans whole frames; with the skip-bad-records flaw it jumps over damage to the next valid frame. */
function scanFrames(file: IoFile, flaws: ReferenceFlaws, onPayload: (payload: Uint8Array) => void): Scan {
  let from = 0;
  for (;;) {
    const scanner = new FrameScanner(file, REFERENCE_FORMAT, { from });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) onPayload(copyBytes(frame.payload));
    const tailState = scanner.tailState ?? 'clean-end';
    if (tailState === 'clean-end' || !flaws.skipBadRecords) return { validBytes: scanner.validBytes, tailState };
    const next = findNextValidFrame(file, REFERENCE_FORMAT, scanner.validBytes + 1);
    if (next === null) return { validBytes: scanner.validBytes, tailState };
    from = next;
  }
}

/** The record count an index file holds, or null when it is missing or damaged. */
function readIndex(io: Io, path: string): number | null {
  const stat = io.stat(path);
  if (stat === null || !stat.isFile || stat.size > 64) return null;
  const file = io.open(path);
  try {
    const bytes = new Uint8Array(stat.size);
    file.readSync(bytes, 0);
    return decodeCount(decodeFrame(bytes, INDEX_FORMAT, { path }));
  } catch {
    return null;
  } finally {
    file.closeSync();
  }
}
