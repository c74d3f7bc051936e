import { Buffer } from 'node:buffer';
import type { Range, RangeEntry } from './range.js';

/**
 * Entries kept in key byte order as a few sorted runs, for a read view's captured
 * entries: they arrive a batch at a time (every write batch can capture a thousand while
 * a checkpoint walks the view) and are searched between batches. Merging each batch into
 * one sorted array would cost the whole array per batch, quadratic over a checkpoint
 * that sees hundreds of thousands of captures; here a batch is sorted into a run of its
 * own and runs are merged only while the newer is at least half the older, as in a
 * binary counter, so each entry is merged O(log n) times and there are at most
 * log2(n) + 1 runs to search.
 */
export class SortedRuns {
  /** Sorted runs, oldest (and largest) first; each at least twice the next one's size. */
  readonly #runs: RangeEntry[][] = [];
  /** Added since the last search: sorted into a run at the next one, so an add costs a push. */
  #pending: RangeEntry[] = [];
  /**
   * The last forward search, while the runs are unchanged since: where it found each
   * run's first candidate, and which run's candidate it returned. A search from just past
   * that entry (a walk taking captured entries in order) resumes from there instead of
   * searching every run again.
   */
  #resume: { key: Uint8Array; at: number[]; run: number } | null = null;

  /** Runs kept now (pending entries not counted): at most log2 of the entries, plus one. */
  get runCount(): number {
    return this.#runs.length;
  }

  /** Adds an entry whose key is not in the runs yet. */
  add(entry: RangeEntry): void {
    this.#pending.push(entry);
  }

  /**
   * The entry that comes first in `range` by its lower bound (forward: the least key at
   * or above it) or, in reverse, last by its upper bound; the other bound is the caller's
   * to check. Null when there is none.
   */
  first(range: Range): RangeEntry | null {
    this.#settle();
    if (range.reverse) return this.#lastInReverse(range);
    const runs = this.#runs;
    const resume = this.#resume;
    let at: number[];
    if (resume !== null && range.lower === resume.key && !range.lowerInclusive) {
      // Every run's candidate stays, but the one returned last time moves past it.
      at = resume.at.slice();
      at[resume.run]!++;
    } else {
      at = runs.map((run) => (range.lower === null ? 0 : indexOfFirst(run, range.lower, !range.lowerInclusive)));
    }
    let best: RangeEntry | null = null;
    let bestRun = -1;
    for (let index = 0; index < runs.length; index++) {
      const candidate = runs[index]![at[index]!];
      if (candidate !== undefined && (best === null || Buffer.compare(candidate.key, best.key) < 0)) [best, bestRun] = [candidate, index];
    }
    this.#resume = best === null ? null : { key: best.key, at, run: bestRun };
    return best;
  }

  #lastInReverse(range: Range): RangeEntry | null {
    let best: RangeEntry | null = null;
    for (const run of this.#runs) {
      const candidate = run[(range.upper === null ? run.length : indexOfFirst(run, range.upper, range.upperInclusive)) - 1];
      if (candidate !== undefined && (best === null || Buffer.compare(candidate.key, best.key) > 0)) best = candidate;
    }
    return best;
  }

  #settle(): void {
    if (this.#pending.length === 0) return;
    const runs = this.#runs;
    this.#resume = null;
    runs.push(this.#pending.sort(compareEntries));
    this.#pending = [];
    while (runs.length > 1 && runs[runs.length - 2]!.length <= 2 * runs[runs.length - 1]!.length) {
      const newer = runs.pop()!;
      const older = runs.pop()!;
      runs.push(merge(older, newer));
    }
  }
}

function compareEntries(a: RangeEntry, b: RangeEntry): number {
  return Buffer.compare(a.key, b.key);
}

function merge(a: readonly RangeEntry[], b: readonly RangeEntry[]): RangeEntry[] {
  const merged = new Array<RangeEntry>(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < merged.length; k++) {
    merged[k] = j >= b.length || (i < a.length && Buffer.compare(a[i]!.key, b[j]!.key) < 0) ? a[i++]! : b[j++]!;
  }
  return merged;
}

/** Index of the first entry of `run` whose key is ≥ `key` (> with `strict`). */
function indexOfFirst(run: readonly RangeEntry[], key: Uint8Array, strict: boolean): number {
  let low = 0;
  let high = run.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = Buffer.compare(run[middle]!.key, key);
    if (order < 0 || (strict && order === 0)) low = middle + 1;
    else high = middle;
  }
  return low;
}
