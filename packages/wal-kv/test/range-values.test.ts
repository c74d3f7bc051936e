import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const name = (n: number): string => `k${String(n).padStart(3, '0')}`;
/** A value whose bytes say which key and which write it is; a few are large, so that a batch's values pass the batch read's byte bound. */
const valueOf = (n: number, round: number, large: boolean): Uint8Array => Buffer.from(`${name(n)}:${round}:`.padEnd(large ? 40_000 : 10 + (n % 90), '.'));

const write = fc.record({ key: fc.integer({ min: 0, max: 699 }), del: fc.boolean(), large: fc.boolean() });
const bound = fc.option(fc.integer({ min: 0, max: 699 }), { nil: undefined });

describe('range values, read a batch at a time', () => {
  it('match a Map model as of the iterator creation, both directions, with bounds and limits, while writes, syncs and compactions land between steps (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 699 }), { maxLength: 600 }),
        fc.array(write, { maxLength: 300 }),
        fc.record({ reverse: fc.boolean(), lower: bound, upper: bound, limit: fc.option(fc.integer({ min: 0, max: 700 }), { nil: undefined }), synced: fc.boolean(), compactAt: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }) }),
        async (initial, writes, { reverse, lower, upper, limit, synced, compactAt }) => {
          const kv = await WalKv.open<Uint8Array>(temporaryDir(), { durability: EXPLICIT, compactWhenGarbageRatio: 1 });
          const model = new Map<string, string>();
          for (const n of initial) {
            const value = valueOf(n, 0, n % 97 === 0);
            kv.put(name(n), value);
            model.set(name(n), Buffer.from(value).toString());
          }
          // Synced: the values are in the log's mappings, where the batch read finds them; else most are still in the write buffer.
          if (synced) await kv.sync();
          const range = { reverse, ...(lower !== undefined ? { gte: name(lower) } : {}), ...(upper !== undefined ? { lt: name(upper) } : {}), ...(limit !== undefined ? { limit } : {}) };
          let expected = [...model.entries()].filter(([key]) => (lower === undefined || key >= name(lower)) && (upper === undefined || key < name(upper))).sort(([a], [b]) => (a < b ? -1 : 1));
          if (reverse) expected.reverse();
          if (limit !== undefined) expected = expected.slice(0, limit);
          const seen: [string, string][] = [];
          const kept: Uint8Array[] = [];
          let step = 0;
          for (const [key, value] of kv.entries(range)) {
            seen.push([key as string, Buffer.from(value).toString()]);
            kept.push(value);
            for (const next of writes.slice(step, step + 2)) {
              if (next.del) kv.delete(name(next.key));
              else kv.put(name(next.key), valueOf(next.key, step + 1, next.large));
            }
            if (step === compactAt) await kv.compact();
            step += 2;
          }
          expect(seen).toEqual(expected);
          // What the walk handed out is the caller's: later reads and writes did not change it.
          expect(kept.map((value) => Buffer.from(value).toString())).toEqual(expected.map(([, value]) => value));
          const values = [...kv.values({ reverse })].map((value) => Buffer.from(value).toString());
          expect(values).toEqual([...kv.entries({ reverse })].map(([, value]) => Buffer.from(value).toString()));
          await kv.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
