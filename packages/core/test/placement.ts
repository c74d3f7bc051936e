import { pageOffsetOf, pageOffsetOfView } from '../src/index.js';

/** Whether `view`'s first byte sits as far into a page of memory as `position` sits into a page of the file. */
export function isPlacedFor(view: Uint8Array, position: number): boolean {
  return view.length === 0 || pageOffsetOfView(view) === pageOffsetOf(position);
}
