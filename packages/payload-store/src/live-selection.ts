import { KeelError, joinPath } from '@keel/core';
import { forEachSliced, nextTurn } from './event-loop-turn.js';
import { payloadFrameBytes, segmentFileName } from './format.js';
import { PayloadRef, normalizeRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';

/** Validates every ref the caller passed (before compaction changes anything), a slice per turn. */
export async function normalizeLiveRefs(liveRefs: readonly PayloadRef[]): Promise<PayloadRef[]> {
  const live = new Array<PayloadRef>(liveRefs.length);
  await forEachSliced(liveRefs, (ref, index) => {
    live[index] = normalizeRef(ref, `liveRefs[${index}]`);
  });
  return live;
}

/**
 * The live refs that sit in `sources` (segment → order), once each, in append order:
 * by the segment's order, then segment, then offset. The output keeps payloads in the
 * order they were appended, and its reads stream through each source. A ref that reaches
 * past its segment's end aborts the compaction before anything is written.
 */
export async function selectLive(dir: string, live: readonly PayloadRef[], sources: ReadonlyMap<number, number>, segments: ReadonlyMap<number, SegmentState>): Promise<PayloadRef[]> {
  const bySegment = new Map<number, PayloadRef[]>();
  for (const segment of sources.keys()) bySegment.set(segment, []);
  await forEachSliced(live, (ref) => bySegment.get(ref.segment)?.push(ref));
  const orderOf = (segment: number) => sources.get(segment) as number;
  const selected: PayloadRef[] = [];
  for (const segment of [...bySegment.keys()].sort((left, right) => orderOf(left) - orderOf(right) || left - right)) {
    const refs = bySegment.get(segment) as PayloadRef[];
    // Refs kept in the order appendBatch returned them need no sort (a sort is one block).
    if (!isSorted(refs)) refs.sort(byPlace);
    const end = (segments.get(segment) as SegmentState).end;
    let previous: PayloadRef | null = null;
    await forEachSliced(refs, (ref) => {
      if (previous !== null && byPlace(previous, ref) === 0) return;
      if (ref.offset + payloadFrameBytes(ref.length) > end) throw unreadable(dir, ref, `it reaches past the valid end (${end}) of its segment`);
      selected.push(ref);
      previous = ref;
    });
    await nextTurn();
  }
  return selected;
}

function byPlace(left: PayloadRef, right: PayloadRef): number {
  return left.offset - right.offset || left.length - right.length;
}

function isSorted(refs: readonly PayloadRef[]): boolean {
  for (let index = 1; index < refs.length; index++) if (byPlace(refs[index - 1] as PayloadRef, refs[index] as PayloadRef) > 0) return false;
  return true;
}

/** A live payload compaction cannot move: it aborts, and nothing on disk has changed. */
export function unreadable(dir: string, ref: PayloadRef, why: string, cause?: unknown): KeelError {
  return new KeelError('KEEL_CORRUPT', `compaction aborted, nothing was changed: live payload ${PayloadRef.key(ref)} cannot be read (${why})`, {
    path: joinPath(dir, segmentFileName(ref.segment)),
    offset: ref.offset,
    ...(cause === undefined ? {} : { cause }),
  });
}
