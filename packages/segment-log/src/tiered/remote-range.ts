import type { FinishedCopy } from './remote-segment-reader.js';

/**
 * The run of copies that reaches `end` without a gap, walking back from it: the remote
 * part of a log, whose first copy's base offset is the log's start. `copies` must be
 * sorted by base offset; a copy before a gap is not part of the log any more.
 */
export function contiguousCopies(copies: readonly FinishedCopy[], end: number): FinishedCopy[] {
  const chain: FinishedCopy[] = [];
  let next = end;
  for (let index = copies.length - 1; index >= 0; index--) {
    const copy = copies[index] as FinishedCopy;
    if (copy.nextOffset > next) continue;
    if (copy.nextOffset < next) break;
    chain.push(copy);
    next = copy.baseOffset;
  }
  return chain.reverse();
}

/** The copy of `chain` that holds `offset`, or undefined. */
export function copyHolding(chain: readonly FinishedCopy[], offset: number): FinishedCopy | undefined {
  let low = 0;
  let high = chain.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const copy = chain[middle] as FinishedCopy;
    if (offset < copy.baseOffset) high = middle - 1;
    else if (offset >= copy.nextOffset) low = middle + 1;
    else return copy;
  }
  return undefined;
}

/** The first copy whose newest record reaches `timestamp` (where a timestamp lookup lands), or undefined. */
export function firstCopyReaching(chain: readonly FinishedCopy[], timestamp: number): FinishedCopy | undefined {
  return chain.find((copy) => copy.maxTimestamp >= timestamp);
}
