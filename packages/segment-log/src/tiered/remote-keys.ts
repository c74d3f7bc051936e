import { BASE_OFFSET_DIGITS, segmentName } from '../format.js';
import { SEGMENT_FILE_KINDS, type SegmentFileKind } from './offload-event.js';

/** The objects of one copy: the segment's three files and the manifest that says the copy is whole. */
export type RemoteObjectKind = SegmentFileKind | 'manifest';

/**
 * The object key of one file of one copy: the segment's file name with the copy id before
 * the extension (`00000000000000000042.3f9a0c1d2e4b5a69.log`), so keys sort by base offset
 * and two copies of one segment never share an object.
 */
export function remoteKey(baseOffset: number, copyId: string, kind: RemoteObjectKind): string {
  return `${segmentName(baseOffset)}.${copyId}.${kind}`;
}

/**
 * The objects a copy may have, the manifest first: a finished copy whose indexes are in its
 * `.log` object has two; any other (finished with separate indexes, or never finished, so
 * of either kind) up to four.
 */
export function copyObjectKinds(copy: { indexesInLog?: boolean }): RemoteObjectKind[] {
  return copy.indexesInLog === true ? ['manifest', 'log'] : ['manifest', ...SEGMENT_FILE_KINDS];
}

const MANIFEST_KEY_PATTERN = new RegExp(`^(\\d{${BASE_OFFSET_DIGITS}})\\.([0-9a-f]{16})\\.manifest$`);

/** The base offset and copy id a manifest key names, or null for any other key. */
export function parseManifestKey(key: string): { baseOffset: number; copyId: string } | null {
  const match = MANIFEST_KEY_PATTERN.exec(key);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? { baseOffset, copyId: match[2] as string } : null;
}
