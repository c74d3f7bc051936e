import {
  KeelError,
  STORE_ID_BYTES,
  joinPath,
  recoverFrameLog,
  removeIfPresent,
  saveAndTruncateTail,
  type Io,
  type IoFile,
  type RecoveryAction,
  type RecoveryPolicy,
  type RecoveryReport,
  type ScannedFrame,
  type StoreIdentityCheck,
} from '@keel/core';
import {
  PAYLOAD_FRAME_FORMAT,
  SEGMENT_HEADER_BYTES,
  checkSegmentHeader,
  encodeSegmentHeader,
  type StoreFile,
  foreignSegmentError,
  mappingFileName,
  parseStoreFileName,
  segmentFileName,
  type SegmentKind,
} from './format.js';
import { checkMappingHeader, type MappingCheck, type MappingRecord } from './mapping-file.js';
import { isOurCompactingFile, judgeMapping } from './compaction-proof.js';
import { IDENTITY, IDENTITY_FILE_NAME } from './store-identity.js';
import type { VerifyLevel } from './options.js';
import { MISPLACED, findDamage } from './scan.js';
import { payloadIsBoundTo } from './frame-binding.js';
import { checkSealedEnds } from './sealed-ends.js';
import type { SegmentState, SurveyedSegment } from './segment.js';
import { appendIdentity, closeFile, createSegmentFile, type Predecessor } from './writer.js';
import { decideRotations, nameFollowing, setAsideFollowing, type FollowingFile } from './rotation-recovery.js';

export interface OpenedDirectory {
  segments: Map<number, SegmentState>;
  active: SegmentState;
  nextSegment: number;
  /** A compaction that finished phase one before the last close or crash. */
  pending: MappingRecord | null;
  /** The store's identity, which its mappings carry. */
  storeId: Uint8Array;
  report: RecoveryReport;
}

/** Everything open found in the directory, read without changing a byte. */
interface Survey {
  identity: StoreIdentityCheck;
  segments: Map<number, SurveyedSegment>;
  temporaries: string[];
  mappings: Map<number, MappingCheck>;
  /** Append segments a rotation created whose rename a crash interrupted (also in `segments`). */
  following: Map<number, FollowingFile>;
  highest: number;
}

/** What open has to do; decided in full before anything is changed. */
interface Decisions {
  /** The store's identity is missing (a new store, or one older than identities) or its creation was torn. */
  writeIdentity: boolean;
  removeTemporaries: string[];
  discardMappings: number[];
  finishCommits: MappingRecord[];
  repairHeaders: number[];
  pending: MappingRecord | null;
}

/**
 * Brings a store directory to a consistent state: surveys every file, refuses foreign
 * or damaged ones before touching anything, recovers the active segment's tail (the one
 * step left that can still refuse, and changes nothing when it does), and only then
 * finishes or rolls back an interrupted compaction and repairs a segment whose creation
 * was torn. Running it twice does the same as running it once.
 */
export async function recoverDirectory(io: Io, dir: string, policy: RecoveryPolicy, verify: VerifyLevel): Promise<OpenedDirectory> {
  const found = survey(io, dir);
  const rotations = decideRotations(io, found.segments, found.following);
  const decisions = decide(io, dir, found);
  checkSealedEnds(dir, found.segments, new Set(decisions.finishCommits.flatMap((record) => record.sources)));
  if (verify === 'full') verifySealed(io, found, decisions);
  if (policy === 'strict' && (needsChanges(decisions) || rotations.setAside.length > 0)) {
    throw new KeelError('KEEL_CORRUPT', `${dir} needs recovery (an interrupted compaction or rotation, or a torn segment); opened strict, nothing was changed`, { path: dir, offset: 0 });
  }
  const tail = await recoverTailFirst(io, found, decisions, policy);
  let changed: { storeId: Uint8Array; actions: RecoveryAction[] };
  try {
    changed = await actOnDecisions(io, dir, found, decisions);
    changed.actions.push(...setAsideFollowing(io, rotations.setAside));
  } catch (error) {
    tail?.file.closeSync();
    throw error;
  }
  const { storeId, actions } = changed;
  const segments = new Map<number, SegmentState>();
  for (const [segment, surveyed] of found.segments) {
    const kind: SegmentKind = surveyed.kind === 'torn' ? 'append' : surveyed.kind;
    segments.set(segment, { segment, kind, order: surveyed.order, path: surveyed.path, end: surveyed.size, sealed: true, file: null, durableEnd: surveyed.size, syncing: 0, view: null });
  }
  let nextSegment = found.highest + 1;
  let active = chooseActive(segments, decisions.pending);
  let tailReport: Omit<RecoveryReport, 'validBytes'>;
  if (tail !== null && tail.segment !== active?.segment) tail.file.closeSync();
  if (active === null) {
    // Created without syncing, then synced off the event loop: open is async.
    // It follows the newest append segment there is, whose end its header then binds.
    const newest = chooseActive(segments, null);
    const predecessor = newest === null ? null : { segment: newest.segment, sealedEnd: newest.end };
    active = createSegmentFile(io, dir, nextSegment++, storeId, predecessor, 'segment');
    await (active.file as NonNullable<SegmentState['file']>).datasync();
    await io.syncDir(dir);
    active.durableEnd = active.end;
    segments.set(active.segment, active);
    actions.push({ kind: 'created', path: active.path });
    tailReport = await recoverActive(io, active, policy);
  } else if (tail !== null && tail.segment === active.segment) {
    adoptRecoveredTail(active, tail.file);
    tailReport = tail.report;
  } else {
    // Only a segment whose torn header was just rewritten gets here: it holds nothing to cut.
    active.file = io.open(active.path, { write: true });
    active.sealed = false;
    tailReport = await recoverActive(io, active, policy);
  }
  try {
    await syncFound(io, dir, segments, () => {
      const named = nameFollowing(io, dir, rotations.name, segments);
      actions.push(...named);
      return named.length > 0;
    });
  } catch (error) {
    closeFile(active);
    throw error;
  }
  if (decisions.pending !== null) {
    actions.push({
      kind: 'kept-pending',
      path: joinPath(dir, mappingFileName(decisions.pending.output)),
      detail: 'pending compaction kept: old and new refs both resolve until pendingCompaction() is committed or aborted',
    });
  }
  let validBytes = 0;
  for (const state of segments.values()) validBytes += state.end;
  const report: RecoveryReport = { ...tailReport, validBytes, actions: [...actions, ...tailReport.actions] };
  return { segments, active, nextSegment, pending: decisions.pending, storeId, report };
}

interface RecoveredTail {
  segment: number;
  file: IoFile;
  report: Omit<RecoveryReport, 'validBytes'>;
}

/**
 * Recovers the tail of the segment that will be active, before any other change: a
 * refusal here (damage that is not a torn tail, or strict) then leaves every file as it
 * was. The active one is the newest append segment that stays and is not a pending
 * compaction's source (never a source of a commit open finishes: those are proven sealed).
 * A torn-header segment has no tail; it is repaired with the other changes.
 */
async function recoverTailFirst(io: Io, found: Survey, decisions: Decisions, policy: RecoveryPolicy): Promise<RecoveredTail | null> {
  const leaving = new Set(decisions.finishCommits.flatMap((record) => record.sources));
  let newest: number | null = null;
  for (const [segment, surveyed] of found.segments) {
    if (surveyed.kind === 'compaction' || leaving.has(segment) || decisions.pending?.sources.includes(segment)) continue;
    if (newest === null || segment > newest) newest = segment;
  }
  if (newest === null || (found.segments.get(newest) as SurveyedSegment).kind === 'torn') return null;
  const file = io.open((found.segments.get(newest) as SurveyedSegment).path, { write: true });
  try {
    const report = await recoverFrameLog({ io, file, format: PAYLOAD_FRAME_FORMAT, policy, from: SEGMENT_HEADER_BYTES, onFrame: refuseMisplaced(file.path, newest) });
    return { segment: newest, file, report };
  } catch (error) {
    file.closeSync();
    throw error;
  }
}

/**
 * Thrown during the tail's survey, before recovery acts on it: a whole frame bound to
 * another place in the segment that takes appends is not a torn tail (its file was
 * created empty and only ever written in place), so the open is refused, nothing changed.
 */
function refuseMisplaced(path: string, segment: number): (frame: ScannedFrame) => void {
  return (frame) => {
    if (payloadIsBoundTo(frame.payload, segment, frame.offset)) return;
    throw new KeelError('KEEL_CORRUPT', `${path} is damaged at offset ${frame.offset} (${MISPLACED}); nothing was changed`, { path, offset: frame.offset });
  };
}

function adoptRecoveredTail(active: SegmentState, file: IoFile): void {
  active.file = file;
  active.sealed = false;
  active.end = file.sizeSync();
  // Recovery may have cut the file: what is on disk now is what is durable.
  active.durableEnd = active.end;
}

/** The identity first (every later file of the store can name it), then the decided changes. */
async function actOnDecisions(io: Io, dir: string, found: Survey, decisions: Decisions): Promise<{ storeId: Uint8Array; actions: RecoveryAction[] }> {
  const actions: RecoveryAction[] = [];
  let storeId: Uint8Array;
  if (decisions.writeIdentity) {
    storeId = await IDENTITY.write(io, dir, found.identity.state === 'torn');
    actions.push({ kind: 'created', path: joinPath(dir, IDENTITY_FILE_NAME) });
  } else storeId = (found.identity as Extract<StoreIdentityCheck, { state: 'valid' }>).storeId;
  actions.push(...(await act(io, dir, found, decisions, storeId)));
  return { storeId, actions };
}

function survey(io: Io, dir: string): Survey {
  const identity = IDENTITY.survey(io, dir);
  if (identity.state === 'foreign') throw IDENTITY.foreignError(dir, identity.reason);
  const storeId = identity.state === 'valid' ? identity.storeId : null;
  const found: Survey = { identity, segments: new Map(), temporaries: [], mappings: new Map(), following: new Map(), highest: 0 };
  for (const name of io.list(dir)) {
    const parsed = parseStoreFileName(name);
    if (parsed === null) continue;
    const path = joinPath(dir, name);
    found.highest = Math.max(found.highest, parsed.segment);
    if (parsed.kind === 'compacting') found.temporaries.push(surveyCompacting(io, path, parsed.segment));
    else if (parsed.kind === 'mapping') found.mappings.set(parsed.segment, checkMappingHeader(io, path, storeId));
    else {
      // A rename is atomic: one number under two names is not something this store leaves.
      if (found.segments.has(parsed.segment)) throw new KeelError('KEEL_CORRUPT', `${path}: segment ${parsed.segment} exists under two names; nothing was changed`, { path, offset: 0 });
      const surveyed = surveySegment(io, dir, path, parsed.segment, storeId);
      found.segments.set(parsed.segment, surveyed);
      if (parsed.kind !== 'following') continue;
      refuseUnlikeItsName(path, surveyed, parsed);
      found.following.set(parsed.segment, { segment: parsed.segment, predecessor: parsed.predecessor, sealedEnd: parsed.sealedEnd, path });
    }
  }
  return found;
}

/** A following file's header (unless torn) names the predecessor and sealed end its name does. */
function refuseUnlikeItsName(path: string, surveyed: SurveyedSegment, parsed: Extract<StoreFile, { kind: 'following' }>): void {
  if (surveyed.kind === 'compaction') throw foreignSegmentError(path, 'a rotation creates append segments only');
  if (surveyed.kind === 'append' && (surveyed.predecessor !== parsed.predecessor || surveyed.boundEnd !== parsed.sealedEnd)) {
    throw foreignSegmentError(path, `its header follows segment ${surveyed.predecessor} sealed at ${surveyed.boundEnd}, its name segment ${parsed.predecessor} sealed at ${parsed.sealedEnd}`);
  }
}

function surveyCompacting(io: Io, path: string, segment: number): string {
  if (isOurCompactingFile(io, path, segment)) return path;
  throw new KeelError('KEEL_CORRUPT', `${path} is not a compaction output of this store; nothing was changed`, { path, offset: 0 });
}

/**
 * Reads a segment's header. Every segment names the store: one found while the identity
 * file is missing or torn (which open writes before any segment) is refused, after a
 * segment of an older format has been named as such.
 */
function surveySegment(io: Io, dir: string, path: string, segment: number, storeId: Uint8Array | null): SurveyedSegment {
  const file = io.open(path);
  try {
    const size = file.sizeSync();
    const header = new Uint8Array(Math.min(size, SEGMENT_HEADER_BYTES));
    const read = file.readSync(header, 0);
    const check = checkSegmentHeader(header.subarray(0, read), segment, size, storeId ?? new Uint8Array(STORE_ID_BYTES));
    if (check.state === 'foreign' && (storeId !== null || check.olderFormat)) throw foreignSegmentError(path, check.reason);
    if (storeId === null) {
      throw new KeelError('KEEL_CORRUPT', `${path} is a segment, but ${joinPath(dir, IDENTITY_FILE_NAME)} (written before any segment) is missing or torn: the store's identity was lost; nothing was changed`, { path, offset: 0 });
    }
    if (check.state === 'foreign') throw foreignSegmentError(path, check.reason);
    if (check.state === 'torn') return { path, size, kind: 'torn', order: segment, predecessor: 0, boundEnd: 0 };
    return { path, size, kind: check.kind, order: check.order, predecessor: check.predecessor, boundEnd: check.boundEnd };
  } finally {
    file.closeSync();
  }
}

function decide(io: Io, dir: string, found: Survey): Decisions {
  const writeIdentity = found.identity.state !== 'valid';
  const decisions: Decisions = { writeIdentity, removeTemporaries: [...found.temporaries], discardMappings: [], finishCommits: [], repairHeaders: [], pending: null };
  const refuse = (reason: string) => new KeelError('KEEL_CORRUPT', `${dir} ${reason}; nothing was changed`, { path: dir, offset: 0 });
  for (const [output, check] of found.mappings) {
    const verdict = judgeMapping(io, dir, output, check, found.segments);
    if (verdict.action === 'discard') decisions.discardMappings.push(output);
    else if (verdict.action === 'pending') {
      if (decisions.pending !== null) throw refuse('holds two uncommitted compactions');
      decisions.pending = verdict.record;
    } else decisions.finishCommits.push(verdict.record);
  }
  if (decisions.finishCommits.length + (decisions.pending === null ? 0 : 1) > 1) throw refuse('holds more than one compaction in progress');
  for (const [segment, surveyed] of found.segments) if (surveyed.kind === 'torn') decisions.repairHeaders.push(segment);
  return decisions;
}

/**
 * Full verification, before anything is changed: every frame of every segment that will
 * stay sealed. The newest append segment is left to the tail recovery that follows.
 */
function verifySealed(io: Io, found: Survey, decisions: Decisions): void {
  const leaving = new Set(decisions.finishCommits.flatMap((record) => record.sources));
  const pendingSources = new Set(decisions.pending?.sources ?? []);
  let active = 0;
  for (const [segment, surveyed] of found.segments) {
    if (surveyed.kind !== 'compaction' && !pendingSources.has(segment) && !leaving.has(segment)) active = Math.max(active, segment);
  }
  for (const [segment, surveyed] of found.segments) {
    if (segment === active || surveyed.kind === 'torn' || leaving.has(segment)) continue;
    const damage = findDamage(io, surveyed.path, segment);
    if (damage !== null) {
      throw new KeelError('KEEL_CORRUPT', `${surveyed.path} is damaged at offset ${damage.offset} (${damage.state}); nothing was changed`, { path: surveyed.path, offset: damage.offset });
    }
  }
}

function needsChanges(decisions: Decisions): boolean {
  return decisions.removeTemporaries.length + decisions.discardMappings.length + decisions.finishCommits.length + decisions.repairHeaders.length > 0;
}

async function act(io: Io, dir: string, found: Survey, decisions: Decisions, storeId: Uint8Array): Promise<RecoveryAction[]> {
  const actions: RecoveryAction[] = [];
  for (const record of decisions.finishCommits) {
    for (const source of record.sources) {
      if (!found.segments.delete(source)) continue;
      const path = joinPath(dir, segmentFileName(source));
      removeIfPresent(io, path);
      actions.push({ kind: 'removed-file', path, detail: `source of committed compaction into segment ${record.output}` });
    }
    await io.syncDir(dir);
    const mappingPath = joinPath(dir, mappingFileName(record.output));
    removeIfPresent(io, mappingPath);
    actions.push({ kind: 'completed-switch', path: mappingPath, detail: `finished committing compaction into segment ${record.output}` });
  }
  for (const output of decisions.discardMappings) {
    const path = joinPath(dir, mappingFileName(output));
    removeIfPresent(io, path);
    actions.push({ kind: 'removed-temporary', path, detail: 'mapping of a compaction that never completed or was aborted' });
  }
  for (const path of decisions.removeTemporaries) {
    removeIfPresent(io, path);
    actions.push({ kind: 'removed-temporary', path, detail: 'unfinished compaction output' });
  }
  for (const segment of decisions.repairHeaders) actions.push(...(await repairTornHeader(io, found, segment, storeId)));
  if (actions.length > 0) await io.syncDir(dir);
  return actions;
}

/** A segment whose header never became durable held nothing acknowledged: keep its bytes aside, start it afresh. */
async function repairTornHeader(io: Io, found: Survey, segment: number, storeId: Uint8Array): Promise<RecoveryAction[]> {
  const surveyed = found.segments.get(segment) as SurveyedSegment;
  const file = io.open(surveyed.path, { write: true });
  const actions: RecoveryAction[] = [];
  try {
    if (surveyed.size > 0) {
      const saved = await saveAndTruncateTail(io, file, 0, surveyed.size);
      actions.push({ kind: 'saved-tail', path: saved, offset: 0, bytes: surveyed.size });
    }
    file.writeSync(encodeSegmentHeader(appendIdentity(segment, predecessorOf(found, segment), storeId)), 0);
    await file.datasync();
  } finally {
    file.closeSync();
  }
  actions.push({ kind: 'truncated-tail', path: surveyed.path, offset: 0, bytes: surveyed.size, detail: 'torn segment header rewritten' });
  surveyed.size = SEGMENT_HEADER_BYTES;
  surveyed.kind = 'append';
  return actions;
}

/**
 * What a torn segment's header would have named: the rotation's predecessor from its
 * following name, or, for a segment open created, the newest append segment before it.
 */
function predecessorOf(found: Survey, segment: number): Predecessor | null {
  const following = found.following.get(segment);
  if (following !== undefined) return { segment: following.predecessor, sealedEnd: following.sealedEnd };
  let newest: number | null = null;
  for (const [other, surveyed] of found.segments) if (other < segment && surveyed.kind === 'append' && (newest === null || other > newest)) newest = other;
  return newest === null ? null : { segment: newest, sealedEnd: (found.segments.get(newest) as SurveyedSegment).size };
}

/** Segments synced at once while open makes what it found durable. */
const OPEN_SYNC_CONCURRENCY = 16;

/**
 * Makes what open found durable before anything new is written: after a process crash
 * (or a poisoned close) appended bytes can still sit in the page cache, and a reader of
 * the reopened store must not see payloads a later power loss could take away. Append
 * segments only (compaction outputs were synced before they got their names); fdatasync
 * of a file with nothing dirty costs little. `nameSegments` runs once every segment and
 * the directory are durable, so that what a segment name vouches for is true; when it
 * renamed anything the directory is synced again.
 */
async function syncFound(io: Io, dir: string, segments: Map<number, SegmentState>, nameSegments: () => boolean): Promise<void> {
  const appendSegments = [...segments.values()].filter((state) => state.kind === 'append');
  for (let start = 0; start < appendSegments.length; start += OPEN_SYNC_CONCURRENCY) {
    await Promise.all(appendSegments.slice(start, start + OPEN_SYNC_CONCURRENCY).map((state) => syncSegment(io, state)));
  }
  await io.syncDir(dir);
  if (nameSegments()) await io.syncDir(dir);
}

async function syncSegment(io: Io, state: SegmentState): Promise<void> {
  if (state.file !== null) return state.file.datasync();
  const file = io.open(state.path);
  try {
    await file.datasync();
  } finally {
    file.closeSync();
  }
}

/** The newest append segment keeps taking appends; a pending compaction's sources never do. */
function chooseActive(segments: Map<number, SegmentState>, pending: MappingRecord | null): SegmentState | null {
  let active: SegmentState | null = null;
  for (const state of segments.values()) {
    if (state.kind !== 'append' || pending?.sources.includes(state.segment)) continue;
    if (active === null || state.segment > active.segment) active = state;
  }
  return active;
}

async function recoverActive(io: Io, active: SegmentState, policy: RecoveryPolicy): Promise<Omit<RecoveryReport, 'validBytes'>> {
  const file = active.file as NonNullable<SegmentState['file']>;
  try {
    const report = await recoverFrameLog({ io, file, format: PAYLOAD_FRAME_FORMAT, policy, from: SEGMENT_HEADER_BYTES, onFrame: refuseMisplaced(file.path, active.segment) });
    adoptRecoveredTail(active, file);
    return report;
  } catch (error) {
    closeFile(active);
    throw error;
  }
}
