import { FrameScanner, type FrameSource } from '@keel/core';
import { JOURNAL_FRAME_FORMAT } from './format.js';

/** At most this many bytes of frames are walked to prove that a position starts a record. */
export const BOUNDARY_INTERVAL_BYTES = 1 << 20;

/**
 * Positions known to start a record (0, the end found by recovery, ends of appends), kept
 * sparse: at most one per BOUNDARY_INTERVAL_BYTES apart from those a check adds. fsys
 * frames carry no position, so a payload that is itself a frame looks like a record to a
 * scan that starts inside it; whether a reader's `from` is a record boundary can only be
 * proven by walking whole frames from a boundary already known.
 */
export class RecordBoundaries {
  /** Sorted ascending. */
  readonly #known: number[] = [0];

  /** Records a boundary at the end of the log (after recovery or an append). */
  noteEnd(position: number): void {
    const last = this.#known[this.#known.length - 1]!;
    if (position - last >= BOUNDARY_INTERVAL_BYTES) this.#known.push(position);
  }

  /**
   * Whether `position` starts a record of `source`, whose frames below `end` are all
   * whole and valid (a live journal's, recovered or written by it). Walks from the
   * nearest known boundary below, remembering new ones on the way.
   */
  isBoundary(source: FrameSource, position: number, end: number): boolean {
    if (position === end) return true;
    const index = this.#lastAtOrBelow(position);
    const start = this.#known[index]!;
    if (start === position) return true;
    const scanner = new FrameScanner(source, JOURNAL_FRAME_FORMAT, { from: start, to: position });
    let inserted = start;
    let at = index + 1;
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
      if (frame.end - inserted < BOUNDARY_INTERVAL_BYTES || frame.end === position) continue;
      this.#known.splice(at++, 0, frame.end);
      inserted = frame.end;
    }
    return scanner.validBytes === position && scanner.tailState === 'clean-end';
  }

  #lastAtOrBelow(position: number): number {
    let low = 0;
    let high = this.#known.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.#known[middle]! <= position) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
