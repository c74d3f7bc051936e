import { FRAME_HEADER_BYTES, FrameScanner, KeelError, isKeelError, joinPath, recoverFrameLog, sameStoreId, startsAsOurs, writeFileDurably, type Io, type IoFile, type RecoveryAction, type RecoveryPolicy, type RecoveryReport, type ScannedFrame, type StoreIdentityCheck } from '@keel/core';
import {
  LOG_FORMAT_VERSION,
  LOG_HEADER_FRAME_BYTES,
  LOG_RECORD_FORMAT,
  LOG_SIGNATURE,
  TEMPORARY_SUFFIX,
  decodeLogHeader,
  encodeLogHeader,
  logFileName,
  parseLogFileName,
  parseSnapshotFileName,
  type LogHeader,
} from './format.js';
import { KeyIndex } from './key-index.js';
import { loadSnapshot } from './snapshot.js';
import { SNAPSHOT_SIGNATURE } from './snapshot-format.js';
import { IDENTITY, IDENTITY_FILE_NAME, refuseDirectory } from './store-identity.js';

export interface RecoveredLog {
  file: IoFile;
  header: LogHeader;
  index: KeyIndex;
  lastSeq: number;
  /** End of the valid log (after any truncation). */
  end: number;
  lastFrameStart: number;
  /** Log position covered by the snapshot that was loaded (header end when none). */
  checkpointPosition: number;
  /** Seq of the snapshot that was loaded, null when none was. */
  snapshotSeq: number | null;
  report: RecoveryReport;
}

/**
 * Brings the directory to a consistent state and rebuilds the index, in two phases.
 *
 * Survey and decide, reading only: the store's identity (`STORE`), the header of every
 * log (each must carry that identity and its own generation), every `.tmp` (each must
 * start as one of ours), and the snapshots; the current generation is the highest, and
 * when an older one is still there the higher one is adopted only if a snapshot of this
 * store proves it was installed (compaction makes one durable before the rename). Then
 * the snapshot to load and the replay's verdict on the log's tail.
 *
 * Act, only once nothing is refused: create the identity and generation 1 of a new store,
 * cut a torn tail (core recovery, after saving it), remove the proven `.tmp` leftovers,
 * older generations and unusable snapshots of this store. A refused open changes nothing.
 */
export async function recoverLog(io: Io, dir: string, policy: RecoveryPolicy, keysMax: number): Promise<RecoveredLog> {
  const found = surveyDirectory(io, dir);
  const actions: RecoveryAction[] = [];
  const storeId = found.identity.state === 'valid' ? found.identity.storeId : await IDENTITY.write(io, dir, found.identity.state === 'torn');
  if (found.identity.state !== 'valid') actions.push({ kind: 'created', path: joinPath(dir, IDENTITY_FILE_NAME) });
  const generation = found.generations.length === 0 ? await createLog(io, dir, { version: LOG_FORMAT_VERSION, generation: 1, baseSeq: 0, storeId }, actions, found.temporaries) : Math.max(...found.generations);
  const path = joinPath(dir, logFileName(generation));
  const file = io.open(path, { write: true });
  try {
    const size = file.sizeSync();
    const header = readLogHeader(file, path, generation, storeId);
    const recovered = await replay(io, dir, found, file, header, size, { policy, keysMax }, actions);
    // Only an open that succeeds changes the directory: a refused one leaves it as found.
    removeTemporaries(io, dir, found.temporaries, recovered.log.report.actions);
    await removeStale(io, dir, found.generations, generation, recovered.unusableSnapshots, policy, recovered.log.report.actions);
    return recovered.log;
  } catch (error) {
    file.closeSync();
    throw error;
  }
}

function readLogHeader(file: IoFile, path: string, generation: number, storeId: Uint8Array | null): LogHeader {
  const headerBytes = new Uint8Array(Math.min(file.sizeSync(), LOG_HEADER_FRAME_BYTES));
  file.readSync(headerBytes, 0);
  const header = decodeLogHeader(headerBytes, path);
  if (header.generation !== generation) throw refuseDirectory(path, `holds generation ${header.generation}, its name says ${generation}`, path);
  if (storeId === null || !sameStoreId(header.storeId, storeId)) throw refuseDirectory(path, 'is a log of another store (its store id is not this store\'s)', path);
  return header;
}

/** What open found, read without changing a byte; refuses anything that is not ours. */
interface Found {
  identity: StoreIdentityCheck;
  names: string[];
  generations: number[];
  temporaries: string[];
}

function surveyDirectory(io: Io, dir: string): Found {
  const identity = IDENTITY.survey(io, dir);
  if (identity.state === 'foreign') throw refuseDirectory(dir, `${IDENTITY_FILE_NAME} is not a wal-kv identity (${identity.reason})`);
  const storeId = identity.state === 'valid' ? identity.storeId : null;
  const all = io.list(dir);
  const names = all.filter((name) => !isTemporary(name));
  const generations = names.map(parseLogFileName).filter((generation): generation is number => generation !== null);
  const snapshots = names.filter((name) => parseSnapshotFileName(name) !== null);
  if (storeId === null && generations.length + snapshots.length > 0) {
    // Read the logs anyway: an older format gets its own, clearer refusal.
    for (const generation of generations) readLogHeaderOf(io, dir, generation, null);
    throw refuseDirectory(dir, `holds logs or snapshots but no valid ${IDENTITY_FILE_NAME}: they cannot be proven this store's`);
  }
  if (generations.length === 0 && snapshots.length > 0) throw refuseDirectory(dir, `holds snapshots (${snapshots.join(', ')}) but no log`);
  for (const generation of generations) readLogHeaderOf(io, dir, generation, storeId);
  const temporaries: string[] = [];
  for (const name of all.filter(isTemporary)) {
    const verdict = temporaryVerdict(io, joinPath(dir, name));
    // A read-only open beside a live writer: the writer renamed or removed it since the listing.
    if (verdict === 'gone') continue;
    if (verdict === 'foreign') throw refuseDirectory(dir, `${name} has a name of ours but is not a file this store writes`);
    temporaries.push(name);
  }
  return { identity, names, generations, temporaries };
}

function readLogHeaderOf(io: Io, dir: string, generation: number, storeId: Uint8Array | null): LogHeader {
  const path = joinPath(dir, logFileName(generation));
  const file = io.open(path);
  try {
    return readLogHeader(file, path, generation, storeId);
  } finally {
    file.closeSync();
  }
}

function isTemporary(name: string): boolean {
  return (name.startsWith('wal-') || name.startsWith('snapshot-')) && name.endsWith(TEMPORARY_SUFFIX);
}

/**
 * A `.tmp` is removed only when it starts as a log or snapshot of ours would (whole, or
 * cut short by a crash); one that no longer exists is `gone`.
 */
function temporaryVerdict(io: Io, path: string): 'ours' | 'gone' | 'foreign' {
  const stat = io.stat(path);
  if (stat === null) return 'gone';
  if (!stat.isFile) return 'foreign';
  let file: IoFile;
  try {
    file = io.open(path);
  } catch (error) {
    if (isKeelError(error, 'KEEL_NOT_FOUND')) return 'gone';
    throw error;
  }
  try {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const signature = name.startsWith('wal-') ? LOG_SIGNATURE : SNAPSHOT_SIGNATURE;
    const head = new Uint8Array(signature.length);
    return startsAsOurs(head.subarray(0, file.readSync(head, 0)), signature) ? 'ours' : 'foreign';
  } finally {
    file.closeSync();
  }
}

/** Removes the `.tmp` leftovers the survey proved ours (never complete, never needed). */
function removeTemporaries(io: Io, dir: string, temporaries: readonly string[], actions: RecoveryAction[]): void {
  for (const name of temporaries) {
    const path = joinPath(dir, name);
    // Creating generation 1 may have renamed its own `.tmp` away since the survey.
    if (io.stat(path) === null) continue;
    io.remove(path);
    actions.push({ kind: 'removed-temporary', path });
  }
}

/**
 * Creates a log generation holding only its header, with core's durable file write
 * under `<name>.tmp` (exclusive create, datasync, rename, directory fsync). A `.tmp` a
 * crash left under that name was proven ours by the survey and is removed first.
 */
export async function createLog(io: Io, dir: string, header: LogHeader, actions: RecoveryAction[], leftovers: readonly string[] = []): Promise<number> {
  const path = joinPath(dir, logFileName(header.generation));
  const temporaryPath = path + TEMPORARY_SUFFIX;
  if (leftovers.includes(logFileName(header.generation) + TEMPORARY_SUFFIX) && io.stat(temporaryPath) !== null) {
    io.remove(temporaryPath);
    actions.push({ kind: 'removed-temporary', path: temporaryPath });
  }
  await writeFileDurably(io, path, encodeLogHeader(header), { temporaryPath });
  actions.push({ kind: 'created', path });
  return header.generation;
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
function chooseSnapshot(io: Io, dir: string, names: readonly string[], file: IoFile, header: LogHeader, size: number, keysMax: number, actions: RecoveryAction[]): SnapshotChoice {
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
    const loaded = loadSnapshot(io, path, snapshot.seq, header, file, size, keysMax);
    if (loaded.kind === 'foreign') throw refuseDirectory(path, `is not a snapshot of this store (${loaded.reason})`, path);
    if (loaded.kind === 'too-many-keys') throw tooManyKeys(path, loaded.entryCount, keysMax, 0);
    if (loaded.kind !== 'loaded') {
      // Only a snapshot whose header proves it ours is removed later; a damaged one is left as found.
      if (loaded.kind === 'log-damaged' || loaded.ours) choice.unusable.push(snapshot.name);
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

/** Applies one record read back to the index; impossible contents are KEEL_CORRUPT at the record's offset. */
function replayRecord(index: KeyIndex, frame: ScannedFrame, generation: number, previousSeq: number, path: string): number {
  try {
    return index.table.replayRecord(frame.payload, frame.offset + FRAME_HEADER_BYTES, previousSeq, generation);
  } catch (error) {
    throw new KeelError('KEEL_CORRUPT', `${path}: record at offset ${frame.offset} ${(error as Error).message}`, { path, offset: frame.offset, cause: error });
  }
}

/**
 * A store holding more keys than this open allows (a smaller `keysMax`, or a log that is
 * not ours to trust) is refused before anything changes: the index could not hold it.
 */
function tooManyKeys(path: string, keys: number, keysMax: number, offset: number): KeelError {
  return new KeelError('KEEL_TOO_LARGE', `${path} holds ${keys} keys or more; this open allows at most ${keysMax} (keysMax). Nothing was changed`, { path, offset });
}

async function replay(
  io: Io,
  dir: string,
  found: Found,
  file: IoFile,
  header: LogHeader,
  size: number,
  limits: { policy: RecoveryPolicy; keysMax: number },
  actions: RecoveryAction[],
): Promise<Replayed> {
  const { policy, keysMax } = limits;
  const choice = chooseSnapshot(io, dir, found.names, file, header, size, keysMax, actions);
  refuseUnprovenGeneration(file, header, found.generations, choice);
  refuseLostDurableBytes(file, choice, policy);
  const { index, from, snapshotSeq } = choice;
  let { previousSeq, lastFrameStart } = choice;
  const unusableSnapshots = choice.unusable;
  const checkpointPosition = from;
  const report = await recoverFrameLog({
    io,
    file,
    format: LOG_RECORD_FORMAT,
    policy,
    from,
    onFrame: (frame) => {
      // One crossing per record: the index checks every field (seqs increase strictly
      // along a log: compaction copies live records in their old order) and applies it.
      previousSeq = replayRecord(index, frame, header.generation, previousSeq, file.path);
      if (index.size > keysMax) throw tooManyKeys(file.path, index.size, keysMax, frame.offset);
      lastFrameStart = frame.offset;
    },
  });
  report.actions = [...actions, ...report.actions];
  const lastSeq = Math.max(header.baseSeq, previousSeq);
  const log: RecoveredLog = { file, header, index, lastSeq, end: report.validBytes, lastFrameStart, checkpointPosition, snapshotSeq, report };
  return { log, unusableSnapshots };
}

/**
 * Compaction makes the new generation's snapshot durable before it renames the new log
 * into place, so while an older generation is still there the newer one is adopted (and
 * the older removed) only when an intact snapshot of this store for it exists. A newer
 * log without one (a stray file, or a copy) proves nothing: refused, nothing changed.
 */
function refuseUnprovenGeneration(file: IoFile, header: LogHeader, generations: readonly number[], choice: SnapshotChoice): void {
  if (generations.length < 2 || choice.snapshotSeq !== null || choice.durableFloor > 0) return;
  const older = generations.filter((generation) => generation < header.generation).join(', ');
  throw refuseDirectory(file.path, `is generation ${header.generation}, but no snapshot of this store proves it was installed over generation ${older}`, file.path);
}

/** Removes older log generations (their headers name this store) and snapshots that can never be used again. */
async function removeStale(
  io: Io,
  dir: string,
  generations: readonly number[],
  generation: number,
  unusableSnapshots: string[],
  policy: RecoveryPolicy,
  actions: RecoveryAction[],
): Promise<void> {
  if (policy === 'strict') return;
  const stale = generations.filter((older) => older < generation).map(logFileName);
  stale.push(...unusableSnapshots);
  for (const name of stale) {
    io.remove(joinPath(dir, name));
    actions.push({ kind: 'removed-file', path: joinPath(dir, name) });
  }
  if (stale.length > 0) await io.syncDir(dir);
}
