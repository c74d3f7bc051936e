import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, KeelError, joinPath, recoverFrameLog, type Io, type IoFile, type RecoveryAction, type RecoveryPolicy, type RecoveryReport } from '@keel/core';
import {
  LOG_FORMAT_VERSION,
  LOG_HEADER_FRAME_BYTES,
  LOG_RECORD_FORMAT,
  OPERATION_PUT,
  TEMPORARY_SUFFIX,
  decodeLogHeader,
  decodeRecordPayload,
  encodeLogHeader,
  logFileName,
  parseLogFileName,
  parseSnapshotFileName,
  type LogHeader,
} from './format.js';
import { KeyIndex } from './key-index.js';
import { loadSnapshot } from './snapshot.js';

export interface RecoveredLog {
  file: IoFile;
  header: LogHeader;
  index: KeyIndex;
  lastSeq: number;
  /** End of the valid log (after any truncation). */
  end: number;
  lastFrameStart: number;
  /** Log position covered by the snapshot that was loaded (header end when none). */
  snapshotPosition: number;
  /** Seq of the snapshot that was loaded, null when none was. */
  snapshotSeq: number | null;
  report: RecoveryReport;
}

/**
 * Brings the directory to a consistent state and rebuilds the index:
 * 1. removes `.tmp` leftovers of an interrupted snapshot or compaction;
 * 2. picks the highest log generation (a generation is renamed into place only once it
 *    is complete and durable), creating generation 1 when there is none;
 * 3. loads the newest snapshot that checks out for that generation, and replays the log
 *    from the position it covers, stopping at the first bad record (core recovery);
 * 4. removes older generations and unusable snapshots, which nothing can need any more.
 */
export async function recoverLog(io: Io, dir: string, policy: RecoveryPolicy): Promise<RecoveredLog> {
  const actions: RecoveryAction[] = [];
  const names = removeTemporaries(io, dir, actions);
  const generations = names.map(parseLogFileName).filter((generation): generation is number => generation !== null);
  const generation = generations.length === 0 ? await createLog(io, dir, 1, 0, actions) : Math.max(...generations);
  const path = joinPath(dir, logFileName(generation));
  const file = io.open(path, { write: true });
  try {
    const size = file.sizeSync();
    const headerBytes = new Uint8Array(Math.min(size, LOG_HEADER_FRAME_BYTES));
    file.readSync(headerBytes, 0);
    const header = decodeLogHeader(headerBytes, path);
    if (header.generation !== generation) {
      throw new KeelError('KEEL_CORRUPT', `${path} holds generation ${header.generation}; it was left untouched`, { path, offset: 0 });
    }
    const recovered = await replay(io, dir, names, file, header, size, policy, actions);
    await removeStale(io, dir, names, generation, recovered.unusableSnapshots, policy, recovered.log.report.actions);
    return recovered.log;
  } catch (error) {
    file.closeSync();
    throw error;
  }
}

function removeTemporaries(io: Io, dir: string, actions: RecoveryAction[]): string[] {
  const kept: string[] = [];
  for (const name of io.list(dir)) {
    const ours = name.startsWith('wal-') || name.startsWith('snapshot-');
    if (ours && name.endsWith(TEMPORARY_SUFFIX)) {
      io.remove(joinPath(dir, name));
      actions.push({ kind: 'removed-temporary', path: joinPath(dir, name) });
    } else {
      kept.push(name);
    }
  }
  return kept;
}

/** Creates a log generation holding only its header: `.tmp`, fsync, rename, directory fsync. */
export async function createLog(io: Io, dir: string, generation: number, baseSeq: number, actions: RecoveryAction[]): Promise<number> {
  const path = joinPath(dir, logFileName(generation));
  const file = io.open(path + TEMPORARY_SUFFIX, { create: true, truncate: true });
  try {
    file.writeSync(encodeLogHeader({ version: LOG_FORMAT_VERSION, generation, baseSeq }), 0);
    await file.datasync();
  } finally {
    file.closeSync();
  }
  io.rename(path + TEMPORARY_SUFFIX, path);
  await io.syncDir(dir);
  actions.push({ kind: 'created', path });
  return generation;
}

interface Replayed {
  log: RecoveredLog;
  unusableSnapshots: string[];
}

async function replay(
  io: Io,
  dir: string,
  names: string[],
  file: IoFile,
  header: LogHeader,
  size: number,
  policy: RecoveryPolicy,
  actions: RecoveryAction[],
): Promise<Replayed> {
  const snapshots = names
    .map((name) => ({ name, seq: parseSnapshotFileName(name) }))
    .filter((entry): entry is { name: string; seq: number } => entry.seq !== null)
    .sort((a, b) => b.seq - a.seq);
  let index = new KeyIndex();
  let from = LOG_HEADER_FRAME_BYTES;
  let previousSeq = 0;
  let snapshotSeq: number | null = null;
  let lastFrameStart = 0;
  const unusableSnapshots: string[] = [];
  for (const snapshot of snapshots) {
    const path = joinPath(dir, snapshot.name);
    const loaded = loadSnapshot(io, path, snapshot.seq, header, file, size);
    if (loaded.kind === 'rejected') {
      unusableSnapshots.push(snapshot.name);
      if (!loaded.olderGeneration) actions.push({ kind: 'ignored-snapshot', path, detail: loaded.reason });
      continue;
    }
    index = loaded.index;
    from = loaded.meta.logPosition;
    previousSeq = loaded.meta.seq;
    snapshotSeq = loaded.meta.seq;
    lastFrameStart = loaded.meta.lastFrameOffset;
    actions.push({ kind: 'loaded-snapshot', path, offset: from, detail: `seq ${loaded.meta.seq}, ${loaded.meta.entryCount} keys` });
    break;
  }
  const snapshotPosition = from;
  const report = await recoverFrameLog({
    io,
    file,
    format: LOG_RECORD_FORMAT,
    policy,
    from,
    onFrame: (frame) => {
      const payload = Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength);
      decodeRecordPayload(frame.payload, frame.offset, file.path, (operation) => {
        // Seqs only grow along a log: compaction copies live records in their old order.
        if (operation.seq <= previousSeq) {
          throw new KeelError('KEEL_CORRUPT', `${file.path}: record at offset ${frame.offset} has seq ${operation.seq} after ${previousSeq}`, { path: file.path, offset: frame.offset });
        }
        previousSeq = operation.seq;
        const key = payload.toString('latin1', operation.keyStart, operation.keyEnd);
        if (operation.type === OPERATION_PUT) index.applyPut(key, frame.offset + FRAME_HEADER_BYTES + operation.valueOffset, operation.valueLength, operation.seq);
        else index.applyDelete(key);
      });
      lastFrameStart = frame.offset;
    },
  });
  report.actions = [...actions, ...report.actions];
  const lastSeq = Math.max(header.baseSeq, previousSeq);
  const log: RecoveredLog = { file, header, index, lastSeq, end: report.validBytes, lastFrameStart, snapshotPosition, snapshotSeq, report };
  return { log, unusableSnapshots };
}

/** Removes older log generations and snapshots that can never be used again. */
async function removeStale(
  io: Io,
  dir: string,
  names: string[],
  generation: number,
  unusableSnapshots: string[],
  policy: RecoveryPolicy,
  actions: RecoveryAction[],
): Promise<void> {
  if (policy === 'strict') return;
  const stale = names.filter((name) => {
    const older = parseLogFileName(name);
    return older !== null && older < generation;
  });
  stale.push(...unusableSnapshots);
  for (const name of stale) {
    io.remove(joinPath(dir, name));
    actions.push({ kind: 'removed-file', path: joinPath(dir, name) });
  }
  if (stale.length > 0) await io.syncDir(dir);
}
