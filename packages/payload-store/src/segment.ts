import type { IoFile } from '@keel/core';
import type { SegmentKind } from './format.js';

/** What the store knows about one segment file. */
export interface SegmentState {
  readonly segment: number;
  readonly kind: SegmentKind;
  /** Where its payloads fall in append order (see SegmentIdentity). */
  readonly order: number;
  /** Where the file is now: a rotation's new segment is renamed once what it follows is durable. */
  path: string;
  /** Bytes that hold a header and whole frames: writes land here, reads must end before it. */
  end: number;
  /** A sealed segment never grows again and is read through a mapping. */
  sealed: boolean;
  /**
   * An open handle: writable while the segment is active or still has unsynced bytes;
   * read-only for a sealed segment too large to map.
   */
  file: IoFile | null;
  /** Bytes known durable: a completed sync covered them (or open found them on disk). */
  durableEnd: number;
  /** Syncs of this file in flight: its handle stays open until they finish. */
  syncing: number;
  /** The mapping of the whole sealed file, made on first read. */
  view: MappedSegment | null;
}

/** A sealed segment's mapping with a DataView over it, so a read allocates only its result. */
export interface MappedSegment {
  readonly bytes: Uint8Array;
  readonly data: DataView;
}

/** Public description of a segment, as `segments()` returns it. */
export interface SegmentInfo {
  readonly segment: number;
  readonly kind: SegmentKind;
  readonly order: number;
  readonly state: 'active' | 'sealed';
  readonly bytes: number;
  readonly path: string;
}

export function describeSegment(state: SegmentState): SegmentInfo {
  return { segment: state.segment, kind: state.kind, order: state.order, state: state.sealed ? 'sealed' : 'active', bytes: state.end, path: state.path };
}

/** A segment file as open's read-only survey found it. */
export interface SurveyedSegment {
  path: string;
  size: number;
  kind: SegmentKind | 'torn';
  order: number;
  /** From the header (0 for a torn one): the append segment this one follows and where it was sealed, or a compaction output's own size. */
  predecessor: number;
  boundEnd: number;
}
