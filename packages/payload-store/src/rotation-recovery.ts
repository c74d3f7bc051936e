import { KeelError, joinPath, savedTailPath, type Io, type RecoveryAction } from '@keel/core';
import { segmentFileName } from './format.js';
import { findDamage } from './scan.js';
import type { SegmentState, SurveyedSegment } from './segment.js';

/**
 * What open does about rotations a crash interrupted. A rotation creates the new segment
 * under its following name, `N.seg.follows-P-E`; the flush that makes the sealed segment
 * P durable renames it to `N.seg` (oldest first) before it claims any payload in it. So:
 *
 * - an append segment under its segment name says every append segment before it is
 *   whole and durable: a following file older than it only lost its rename;
 * - a following file newer than every segment name holds nothing acknowledged. It is
 *   kept when P, the segment before it, ends exactly at E with whole frames (a process
 *   crash, or a power cut that lost nothing); otherwise P's end never became durable, P
 *   takes the appends again, and this and every later following file are set aside.
 */
export interface FollowingFile {
  readonly segment: number;
  readonly predecessor: number;
  readonly sealedEnd: number;
  readonly path: string;
}

export interface RotationDecisions {
  /** Following files whose predecessor is whole: each gets its segment name. */
  name: FollowingFile[];
  /** Following files after a predecessor that is not whole: set aside, never read. */
  setAside: FollowingFile[];
}

/**
 * Decides, reading only, what each following file is. Set-aside files leave `segments`,
 * so that the rest of open sees the store as it will be. Throws KEEL_CORRUPT for a
 * predecessor longer than where it was sealed, which no crash of this store leaves.
 */
export function decideRotations(io: Io, segments: Map<number, SurveyedSegment>, following: ReadonlyMap<number, FollowingFile>): RotationDecisions {
  const decisions: RotationDecisions = { name: [], setAside: [] };
  if (following.size === 0) return decisions;
  let named = 0;
  for (const [segment, surveyed] of segments) if (surveyed.kind !== 'compaction' && !following.has(segment)) named = Math.max(named, segment);
  let previous = named;
  for (const file of [...following.values()].sort((left, right) => left.segment - right.segment)) {
    if (file.segment < named) {
      decisions.name.push(file);
      continue;
    }
    const predecessor = segments.get(previous);
    const kept = decisions.setAside.length === 0 && file.predecessor === previous && predecessor !== undefined && endsWhole(io, previous, predecessor, file.sealedEnd);
    if (kept) {
      decisions.name.push(file);
      previous = file.segment;
    } else {
      decisions.setAside.push(file);
      segments.delete(file.segment);
    }
  }
  return decisions;
}

/** Whether the segment ends exactly at `end` with whole frames bound to it; KEEL_CORRUPT when it is longer. */
function endsWhole(io: Io, segment: number, surveyed: SurveyedSegment, end: number): boolean {
  if (surveyed.kind !== 'append' || surveyed.size < end) return false;
  if (surveyed.size > end) {
    throw new KeelError('KEEL_CORRUPT', `${surveyed.path} holds ${surveyed.size} bytes, past the ${end} it was sealed at; nothing was changed`, { path: surveyed.path, offset: end });
  }
  return findDamage(io, surveyed.path, segment, end) === null;
}

/**
 * Sets aside, newest first, the following files nothing acknowledged lives in: each is
 * renamed to `<name>.torn-0` (its bytes kept, as a cut tail is). A crash part-way leaves
 * some of them, which the next open sets aside the same way.
 */
export function setAsideFollowing(io: Io, files: readonly FollowingFile[]): RecoveryAction[] {
  const actions: RecoveryAction[] = [];
  for (const file of [...files].reverse()) {
    const bytes = io.stat(file.path)?.size ?? 0;
    const saved = freshPath(io, savedTailPath(file.path, 0));
    io.rename(file.path, saved);
    actions.push(
      { kind: 'saved-tail', path: saved, offset: 0, bytes },
      { kind: 'removed-file', path: file.path, detail: `a rotation whose sealed segment ${file.predecessor} never became durable: nothing in it was acknowledged` },
    );
  }
  return actions;
}

/** `path`, or `path.<n>` for the first n no file has: a saved tail never replaces anything. */
function freshPath(io: Io, path: string): string {
  let fresh = path;
  for (let n = 1; io.stat(fresh) !== null; n++) fresh = `${path}.${n}`;
  return fresh;
}

/**
 * Gives each kept following file its segment name, oldest first. The caller has made
 * every append segment durable first: a segment name on disk vouches for those before it.
 */
export function nameFollowing(io: Io, dir: string, files: readonly FollowingFile[], segments: ReadonlyMap<number, SegmentState>): RecoveryAction[] {
  const actions: RecoveryAction[] = [];
  for (const file of files) {
    const state = segments.get(file.segment);
    if (state === undefined) continue;
    const path = joinPath(dir, segmentFileName(file.segment));
    io.rename(state.path, path);
    state.path = path;
    actions.push({ kind: 'completed-switch', path, detail: `rotation after segment ${file.predecessor} made durable` });
  }
  return actions;
}
