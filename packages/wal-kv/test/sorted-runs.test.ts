import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Range, RangeEntry } from '../src/range.js';
import { SortedRuns } from '../src/sorted-runs.js';

const keyBytes = fc.uint8Array({ minLength: 1, maxLength: 3, max: 3 });
const bound = fc.option(fc.uint8Array({ minLength: 0, maxLength: 3, max: 3 }), { nil: null });

function entryOf(key: Uint8Array): RangeEntry {
  return { key: Buffer.from(key), generation: 1, position: 0, length: 0, seq: 1, keyCrc: 0 };
}

/** The reference answer: every entry sorted, the first at or above the lower bound (or last at or below the upper). */
function expected(entries: readonly RangeEntry[], range: Range): RangeEntry | null {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.key, b.key));
  if (!range.reverse) {
    return sorted.find((entry) => range.lower === null || Buffer.compare(entry.key, range.lower) > (range.lowerInclusive ? -1 : 0)) ?? null;
  }
  return sorted.reverse().find((entry) => range.upper === null || Buffer.compare(entry.key, range.upper) < (range.upperInclusive ? 1 : 0)) ?? null;
}

describe('SortedRuns', () => {
  it('finds what one sorted array of every entry added would, however the adds are batched', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uniqueArray(keyBytes, { selector: (key) => Buffer.from(key).toString('hex'), maxLength: 12 }), fc.array(fc.tuple(bound, fc.boolean(), fc.boolean()), { maxLength: 4 }))),
        (steps) => {
          const runs = new SortedRuns();
          const added: RangeEntry[] = [];
          const seen = new Set<string>();
          for (const [keys, searches] of steps) {
            for (const key of keys) {
              const name = Buffer.from(key).toString('hex');
              if (seen.has(name)) continue; // the view adds a key once
              seen.add(name);
              const entry = entryOf(key);
              runs.add(entry);
              added.push(entry);
            }
            for (const [at, inclusive, reverse] of searches) {
              const range: Range = { lower: reverse ? null : at, lowerInclusive: inclusive, upper: reverse ? at : null, upperInclusive: inclusive, reverse, limit: Infinity };
              expect(runs.first(range)).toBe(expected(added, range));
            }
          }
        },
      ),
    );
  });

  it('walks its entries in order from just past each one it returned, however adds and searches interleave', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uniqueArray(keyBytes, { selector: (key) => Buffer.from(key).toString('hex'), maxLength: 6 }), fc.nat({ max: 4 }), fc.boolean())), (steps) => {
        const runs = new SortedRuns();
        const added: RangeEntry[] = [];
        const seen = new Set<string>();
        let lower: Uint8Array | null = null;
        for (const [keys, walk, searchAgain] of steps) {
          for (const key of keys) {
            const name = Buffer.from(key).toString('hex');
            if (seen.has(name)) continue;
            seen.add(name);
            const entry = entryOf(key);
            runs.add(entry);
            added.push(entry);
          }
          for (let step = 0; step < walk; step++) {
            const range: Range = { lower, lowerInclusive: false, upper: null, upperInclusive: true, reverse: false, limit: Infinity };
            const found = runs.first(range);
            expect(found).toBe(expected(added, range));
            // Asking again from the same place gives the same entry.
            if (searchAgain) expect(runs.first(range)).toBe(found);
            if (found === null) break;
            lower = found.key;
          }
        }
      }),
    );
  });

  it('keeps a few runs after many batches', () => {
    const runs = new SortedRuns();
    const everything: RangeEntry[] = [];
    for (let batch = 0; batch < 1000; batch++) {
      for (let index = 0; index < 7; index++) {
        const entry = entryOf(Buffer.from(`k${String((index * 1009 + batch * 7919) % 100_003).padStart(6, '0')}-${batch}-${index}`));
        runs.add(entry);
        everything.push(entry);
      }
      runs.first({ lower: null, lowerInclusive: true, upper: null, upperInclusive: true, reverse: false, limit: Infinity });
    }
    const range: Range = { lower: Buffer.from('k05'), lowerInclusive: true, upper: null, upperInclusive: true, reverse: false, limit: Infinity };
    expect(runs.first(range)).toBe(expected(everything, range));
    expect(runs.runCount).toBeLessThanOrEqual(Math.log2(everything.length) + 1);
  });
});
