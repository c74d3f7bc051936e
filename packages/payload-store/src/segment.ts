import type { IoFile } from '@keel/core';
import type { SegmentKind } from './format.js';

/** What the store knows about one segment file. */
export interface SegmentState {
  readonly segment: number;
  readonly kind: SegmentKind;
  readonly path: string;
  /** Bytes that hold a header and whole frames: writes land here, reads must end before it. */
  end: number;
  /** A sealed segment never grows again and is read through a mapping. */
  sealed: boolean;
  /** Open for writing while the segment is active or still has unsynced bytes. */
  writer: IoFile | null;
  /** Bytes written since the last sync of this file. */
  dirty: boolean;
  /** The mapping of the whole sealed file, made on first read. */
  view: Uint8Array | null;
}

/** Public description of a segment, as `segments()` returns it. */
export interface SegmentInfo {
  readonly segment: number;
  readonly kind: SegmentKind;
  readonly state: 'active' | 'sealed';
  readonly bytes: number;
  readonly path: string;
}

export function describeSegment(state: SegmentState): SegmentInfo {
  return { segment: state.segment, kind: state.kind, state: state.sealed ? 'sealed' : 'active', bytes: state.end, path: state.path };
}
