import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, FrameScanner, KeelError, joinPath, recoverFrameLog, type Io, type IoFile, type RecoveryAction, type RecoveryPolicy, type RecoveryReport } from '@keel/core';
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
 * 1. picks the highest log generation (a generation is renamed into place only once it
 *    is complete and durable), creating generation 1 when there is none;
 * 2. loads the newest snapshot that checks out for that generation, and replays the log
 *    from the position it covers, stopping at the first bad record (core recovery);
 * 3. only then removes `.tmp` leftovers of an interrupted snapshot or compaction, older
 *    generations, and unusable snapshots, which nothing can need any more. An open that
 *    is refused changes nothing.
 */
export async function recoverLog(io: Io, dir: string, policy: RecoveryPolicy): Promise<RecoveredLog> {
  const actions: RecoveryAction[] = [];
  const names = io.list(dir).filter((name) => !isTemporary(name));
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
    // Only an open that succeeds changes the directory: a refused one leaves it as found.
    removeTemporaries(io, dir, recovered.log.report.actions);
    await removeStale(io, dir, names, generation, recovered.unusableSnapshots, policy, recovered.log.report.actions);
    return recovered.log;
  } catch (error) {
    file.closeSync();
    throw error;
  }
}

function isTemporary(name: string): boolean {
  return (name.startsWith('wal-') || name.startsWith('snapshot-')) && name.endsWith(TEMPORARY_SUFFIX);
}

/** Removes `.tmp` leftovers of an interrupted snapshot or compaction (never complete, never needed). */
function removeTemporaries(io: Io, dir: string, actions: RecoveryAction[]): void {
  // Listed again: creating generation 1 may have renamed a `.tmp` away since open began.
  for (const name of io.list(dir).filter(isTemporary)) {
    io.remove(joinPath(dir, name));
    actions.push({ kind: 'removed-temporary', path: joinPath(dir, name) });
  }
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

interface SnapshotChoice {
  index: KeyIndex;
  from: number;
  previousSeq: number;
  snapshotSeq: number | null;
  lastFrameStart: number;
  /** The log was durable through here: an intact snapshot once covered it. */
  durableFloor: number;
  durableEvidence: string | null;
  unusable: string[];
}

/** The newest snapshot that checks out and that the log backs; notes what the others prove. */
function chooseSnapshot(io: Io, dir: string, names: string[], file: IoFile, header: LogHeader, size: number, actions: RecoveryAction[]): SnapshotChoice {
  const choice: SnapshotChoice = {
    index: new KeyIndex(),
    from: LOG_HEADER_FRAME_BYTES,
    previousSeq: 0,
    snapshotSeq: null,
    lastFrameStart: 0,
    durableFloor: 0,
    durableEvidence: null,
    unusable: [],
  };
  const snapshots = names
    .map((name) => ({ name, seq: parseSnapshotFileName(name) }))
    .filter((entry): entry is { name: string; seq: number } => entry.seq !== null)
    .sort((a, b) => b.seq - a.seq);
  for (const snapshot of snapshots) {
    const path = joinPath(dir, snapshot.name);
    const loaded = loadSnapshot(io, path, snapshot.seq, header, file, size);
    if (loaded.kind !== 'loaded') {
      choice.unusable.push(snapshot.name);
      if (loaded.kind === 'rejected' && loaded.olderGeneration) continue;
      actions.push({ kind: 'ignored-snapshot', path, detail: loaded.reason });
      if (loaded.kind === 'log-damaged' && loaded.meta.logPosition > choice.durableFloor) {
        choice.durableFloor = loaded.meta.logPosition;
        choice.durableEvidence = `${path} ${loaded.reason}`;
      }
      continue;
    }
    choice.index = loaded.index;
    choice.from = loaded.meta.logPosition;
    choice.previousSeq = loaded.meta.seq;
    choice.snapshotSeq = loaded.meta.seq;
    choice.lastFrameStart = loaded.meta.lastFrameOffset;
    actions.push({ kind: 'loaded-snapshot', path, offset: choice.from, detail: `seq ${loaded.meta.seq}, ${loaded.meta.entryCount} keys` });
    break;
  }
  return choice;
}

/**
 * An intact snapshot is written only after the log is durable through its position. If
 * the log no longer reaches that far with valid records, bytes that were durable are gone
 * or damaged: that is corruption, never a torn tail to cut, so it is refused (unless the
 * caller opted into 'salvage'). Nothing is changed.
 */
function refuseLostDurableBytes(file: IoFile, choice: SnapshotChoice, policy: RecoveryPolicy): void {
  if (policy === 'salvage' || choice.durableFloor <= choice.from) return;
  const scanner = new FrameScanner(file, LOG_RECORD_FORMAT, { from: choice.from, to: choice.durableFloor });
  while (scanner.next() !== null);
  if (scanner.tailState === 'clean-end' && scanner.validBytes === choice.durableFloor) return;
  throw new KeelError(
    'KEEL_CORRUPT',
    `${file.path} is damaged at offset ${scanner.validBytes} (${scanner.tailState ?? 'short'}), inside bytes that were durable (${choice.durableEvidence ?? ''}). Nothing was changed; open with recovery 'salvage' to keep only the valid prefix`,
    { path: file.path, offset: scanner.validBytes },
  );
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
  const choice = chooseSnapshot(io, dir, names, file, header, size, actions);
  refuseLostDurableBytes(file, choice, policy);
  const { index, from, snapshotSeq } = choice;
  let { previousSeq, lastFrameStart } = choice;
  const unusableSnapshots = choice.unusable;
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
