import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

/**
 * Enough keys, and enough added since the ordered view was last brought up to date,
 * that refreshing it (and the rest of the task) takes many slices: several sorted runs
 * of new keys, then merges, with writes, ranges and a read view's walk in between.
 */
const KEYS = 20_000;
const ADDED = 20_000;
const SPAN = 2 * (KEYS + ADDED);
const name = (n: number): string => `key-${String(n).padStart(6, '0')}`;

type Step =
  | { kind: 'put'; key: number }
  | { kind: 'del'; key: number }
  | { kind: 'range'; from: number; width: number; reverse: boolean; limit: number }
  | { kind: 'walk'; entries: number };

const keyOf = fc.integer({ min: 0, max: SPAN - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyOf }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyOf }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('range' as const), from: keyOf, width: fc.integer({ min: 1, max: 600 }), reverse: fc.boolean(), limit: fc.constantFrom(-1, 1, 50) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('walk' as const), entries: fc.integer({ min: 1, max: 20_000 }) }) },
);

function sortedEntries(model: ReadonlyMap<string, string>, keep: (key: string) => boolean = () => true): [string, string][] {
  return [...model].filter(([key]) => keep(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('ranges and read views during maintenance', () => {
  it('see exactly the store (ranges) or the store as of the view (views) while a checkpoint or compaction refreshes the ordered view in slices', async () => {
    const plan = fc.record({
      task: fc.constantFrom('checkpoint' as const, 'compact' as const),
      // Keys added since the view was last brought up to date: none (removals only) or many.
      added: fc.constantFrom(0, ADDED),
      removedEvery: fc.constantFrom(0, 3, 7),
      steps: fc.array(step, { minLength: 1, maxLength: 80 }),
    });
    await fc.assert(
      fc.asyncProperty(plan, async ({ task, added, removedEvery, steps }) => {
        const dir = temporaryDir();
        const kv = await WalKv.open<string>(dir, { durability: { mode: 'explicit' }, valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
        const model = new Map<string, string>();
        const put = (key: string, value: string): void => {
          kv.put(key, value);
          model.set(key, value);
        };
        const del = (key: string): void => {
          kv.delete(key);
          model.delete(key);
        };
        try {
          for (let n = 0; n < KEYS; n++) put(name(2 * n), `v${n}`);
          // The ordered view is built here; what follows is pending or dead in it.
          expect([...kv.keys({ limit: 1 })]).toEqual([name(0)]);
          for (let n = 0; n < added; n++) put(name(2 * n + 1), `a${n}`);
          if (removedEvery > 0) for (let n = 0; n < KEYS; n += removedEvery) del(name(2 * n));
          const done = task === 'checkpoint' ? kv.checkpoint() : kv.compact();
          let settled = false;
          void done.finally(() => (settled = true)).catch(() => undefined);
          using view = kv.snapshot();
          const viewModel = sortedEntries(model);
          const walk = view.entries();
          const walked: [string, string][] = [];
          const advance = (entries: number): void => {
            for (let i = 0; i < entries; i++) {
              const next = walk.next();
              if (next.done === true) return;
              walked.push(next.value as [string, string]);
            }
          };
          let turn = 0;
          for (const next of steps) {
            if (settled) break;
            // One step per turn of the event loop: maintenance runs a slice between them.
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (next.kind === 'put') put(name(next.key), `t${turn++}`);
            else if (next.kind === 'del') del(name(next.key));
            else if (next.kind === 'walk') advance(next.entries);
            else {
              const bounds = { gte: name(next.from), lt: name(next.from + next.width), reverse: next.reverse, limit: next.limit };
              let expected = sortedEntries(model, (key) => key >= bounds.gte && key < bounds.lt);
              if (next.reverse) expected = expected.reverse();
              if (next.limit >= 0) expected = expected.slice(0, next.limit);
              expect([...kv.entries(bounds)]).toEqual(expected);
            }
          }
          await done;
          advance(Infinity);
          expect(walked).toEqual(viewModel);
          expect([...kv.entries()]).toEqual(sortedEntries(model));
        } finally {
          await kv.close();
        }
        const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8', readOnly: true });
        expect([...reopened.entries()]).toEqual(sortedEntries(model));
        await reopened.close();
      }),
      { numRuns: 6 },
    );
  });
});
