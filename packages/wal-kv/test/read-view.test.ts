import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import type { ReadView } from '../src/read-view.js';
import { expectCode, temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const keyOf = fc.integer({ min: 0, max: 11 }).map((n) => `k${n.toString(16)}`);

type Step =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'del'; key: string }
  | { kind: 'batch'; put: string; del: string }
  | { kind: 'open-view' }
  | { kind: 'close-view'; which: number }
  | { kind: 'check'; which: number; reverse: boolean; gte: string }
  | { kind: 'checkpoint' }
  | { kind: 'compact' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyOf, value: fc.string({ maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyOf }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('batch' as const), put: keyOf, del: keyOf }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'open-view' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close-view' as const), which: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('check' as const), which: fc.nat(), reverse: fc.boolean(), gte: keyOf }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'checkpoint' as const }, { kind: 'compact' as const }) },
);

/** The model's entries in a range, in the order a view yields them. */
function modelRange(model: ReadonlyMap<string, string>, gte: string, reverse: boolean): [string, string][] {
  const entries = [...model].filter(([key]) => key >= gte).sort(([a], [b]) => (a < b ? -1 : 1));
  return reverse ? entries.reverse() : entries;
}

function checkView(view: ReadView<string>, model: ReadonlyMap<string, string>, gte: string, reverse: boolean): void {
  expect([...view.entries({ gte, reverse })]).toEqual(modelRange(model, gte, reverse));
  expect(view.size).toBe(model.size);
  for (let n = 0; n < 12; n++) {
    const key = `k${n.toString(16)}`;
    expect(view.get(key)).toBe(model.get(key));
  }
}

describe('read views (kv.snapshot())', () => {
  it('read the store as of their creation through writes, deletes, batches, checkpoints and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 50 }), async (steps) => {
        const kv = await WalKv.open<string>(temporaryDir(), { durability: EXPLICIT, valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
        const model = new Map<string, string>();
        const views: { view: ReadView<string>; model: Map<string, string> }[] = [];
        try {
          for (const next of steps) {
            if (next.kind === 'put') {
              kv.put(next.key, next.value);
              model.set(next.key, next.value);
            } else if (next.kind === 'del') {
              kv.delete(next.key);
              model.delete(next.key);
            } else if (next.kind === 'batch') {
              kv.batch([{ type: 'put', key: next.put, value: 'b' }, { type: 'del', key: next.del }]);
              model.set(next.put, 'b');
              model.delete(next.del);
            } else if (next.kind === 'open-view') views.push({ view: kv.snapshot(), model: new Map(model) });
            else if (next.kind === 'close-view' && views.length > 0) views.splice(next.which % views.length, 1)[0]!.view.close();
            else if (next.kind === 'check' && views.length > 0) {
              const { view, model: then } = views[next.which % views.length]!;
              checkView(view, then, next.gte, next.reverse);
            } else if (next.kind === 'checkpoint') await kv.checkpoint();
            else if (next.kind === 'compact') await kv.compact();
          }
          for (const { view, model: then } of views) checkView(view, then, '', false);
          // The store itself reads the present.
          expect([...kv.entries()]).toEqual(modelRange(model, '', false));
        } finally {
          await kv.close();
        }
      }),
      { numRuns: 80 },
    );
  });

  it('an iterator reads as of its creation while writes land between its steps (property)', async () => {
    const write = fc.record({ key: fc.integer({ min: 0, max: 599 }), del: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: 599 }), { maxLength: 400 }), fc.array(write, { maxLength: 400 }), fc.boolean(), async (initial, writes, reverse) => {
        const kv = await WalKv.open<string>(temporaryDir(), { durability: EXPLICIT, valueEncoding: 'utf8' });
        const name = (n: number): string => `k${String(n).padStart(3, '0')}`;
        const model = new Map<string, string>();
        for (const n of initial) {
          kv.put(name(n), 'first');
          model.set(name(n), 'first');
        }
        const seen: [string, string][] = [];
        let step = 0;
        for (const [key, value] of kv.entries({ reverse })) {
          seen.push([key as string, value]);
          // Several writes per step, so that batches of the index fetched later see many changes.
          for (const next of writes.slice(step, step + 3)) {
            if (next.del) kv.delete(name(next.key));
            else kv.put(name(next.key), 'second');
          }
          step += 3;
        }
        expect(seen).toEqual(modelRange(model, '', reverse));
        await kv.close();
      }),
      { numRuns: 40 },
    );
  });

  it('an iterator reads as of its creation: entries deleted or added during the loop neither vanish nor appear', async () => {
    const kv = await WalKv.open(temporaryDir(), { durability: EXPLICIT, valueEncoding: 'utf8' });
    const keys = Array.from({ length: 600 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    kv.putBatch(keys.map((key) => [key, key]));
    const seen: string[] = [];
    for (const [key, value] of kv.entries()) {
      expect(value).toBe(key);
      seen.push(key as string);
      // Delete keys ahead of the walk (beyond the first batch of the index too), overwrite the next, add new ones.
      const victim = keys[keys.length - 1 - seen.length];
      if (victim !== undefined) kv.delete(victim);
      const next = keys[seen.length];
      if (next !== undefined) kv.put(next, 'changed');
      kv.put(`k${seen.length}x`, 'new');
      if (seen.length === 300) await kv.compact();
    }
    expect(seen).toEqual(keys);
    // The store itself saw every change.
    expect(kv.get(keys[0]!)).toBeUndefined();
    expect(kv.get('k1x')).toBe('new');
    await kv.close();
  });

  it('pins the log generation it reads: a compaction keeps the old log until the view is released', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
    kv.put('a', 'old');
    await kv.sync();
    const logs = (): string[] => readdirSync(dir).filter((name) => /^wal-\d+\.log$/.test(name)).sort();
    {
      using view = kv.snapshot();
      kv.put('a', 'new');
      await kv.compact();
      kv.put('a', 'newer');
      await kv.compact();
      expect(logs()).toEqual(['wal-1.log', 'wal-2.log', 'wal-3.log']);
      expect(view.get('a')).toBe('old');
      expect([...view.values()]).toEqual(['old']);
    }
    expect(logs()).toEqual(['wal-3.log']);
    expect(kv.get('a')).toBe('newer');
    await kv.close();
    const again = await WalKv.open(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
    expect(again.get('a')).toBe('newer');
    await again.close();
  });

  it('a stopped iterator releases its view; a released view or one of a closed store throws KEEL_CLOSED', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
    kv.putBatch([['a', '1'], ['b', '2']]);
    for (const _key of kv.keys()) break;
    const view = kv.snapshot();
    kv.put('a', 'x');
    await kv.compact();
    view.close();
    view.close();
    await expectCode(() => view.get('a'), 'KEEL_CLOSED');
    await expectCode(() => [...view.keys()], 'KEEL_CLOSED');
    expect(readdirSync(dir).filter((name) => name.endsWith('.log'))).toEqual(['wal-2.log']);
    const open = kv.snapshot();
    await kv.close();
    await expectCode(() => open.get('a'), 'KEEL_CLOSED');
    open[Symbol.dispose]();
  });
});
