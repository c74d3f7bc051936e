import { segmentName } from '../format.js';
import type { SegmentFileKind } from './offload-event.js';

/**
 * The object key of one file of one copy: the segment's file name with the copy id before
 * the extension (`00000000000000000042.3f9a0c1d2e4b5a69.log`), so keys sort by base offset
 * and two copies of one segment never share an object.
 */
export function remoteKey(baseOffset: number, copyId: string, kind: SegmentFileKind): string {
  return `${segmentName(baseOffset)}.${copyId}.${kind}`;
}
