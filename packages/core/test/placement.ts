import { isAligned } from '@keel/native';
import { PAGE_BYTES } from '../src/index.js';

/** Whether `view`'s first byte sits as far into a page of memory as `position` sits into a page of the file. */
export function isPlacedFor(view: Uint8Array, position: number): boolean {
  const skew = (((view.byteOffset - position) % PAGE_BYTES) + PAGE_BYTES) % PAGE_BYTES;
  // The address is not visible to JS; the addon reads the memory's own.
  return skew === 0 && isAligned(new Uint8Array(view.buffer, 0, 1), PAGE_BYTES);
}
