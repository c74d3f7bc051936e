import { KeelError } from '@keel/core';
import type { SurveyedSegment } from './segment.js';

/**
 * Checks, reading nothing but the survey, that every sealed append segment ends exactly
 * where the header of the segment after it says it was sealed. A rotation writes that
 * end into the new segment's header, and the new segment gets its segment name only once
 * the sealed one is durable through it; so an append segment shorter than its successor
 * records lost acknowledged bytes at its end (a lost or misdirected write), which no
 * crash of this store leaves and which reads as a whole, shorter segment otherwise.
 * Compaction outputs bind their own size in their header (checked by the survey).
 *
 * `segments` less `leaving` is the store as open will keep it (set-aside rotations
 * removed; `leaving`: sources of a commit open finishes, whose removals a crash kept only
 * some of). Throws KEEL_CORRUPT naming the segment; nothing has been changed.
 */
export function checkSealedEnds(dir: string, segments: ReadonlyMap<number, SurveyedSegment>, leaving: ReadonlySet<number>): void {
  const appendSegments = [...segments.entries()].filter(([segment, surveyed]) => surveyed.kind !== 'compaction' && !leaving.has(segment)).sort(([left], [right]) => left - right);
  for (let index = 1; index < appendSegments.length; index++) {
    const [previous, sealed] = appendSegments[index - 1] as [number, SurveyedSegment];
    const [segment, next] = appendSegments[index] as [number, SurveyedSegment];
    // A torn header names nothing: its segment was created after the one before it was sealed and named.
    if (next.kind === 'torn') continue;
    const refuse = (reason: string) => new KeelError('KEEL_CORRUPT', `${dir}: ${reason}; nothing was changed`, { path: sealed.path, offset: Math.min(sealed.size, next.boundEnd) });
    if (next.predecessor !== previous) throw refuse(`segment ${segment} follows segment ${next.predecessor}, yet append segment ${previous} lies between (a segment of another history)`);
    if (sealed.kind !== 'append' || sealed.size !== next.boundEnd) {
      throw refuse(`segment ${previous} holds ${sealed.size} bytes, but it was sealed at ${next.boundEnd} (recorded by segment ${segment}): bytes acknowledged at its end were lost`);
    }
  }
}
