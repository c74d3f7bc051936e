import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { WalKv } from '../src/index.js';
import type { ReadView } from '../src/read-view.js';
import { contents, temporaryDir, turn } from './helpers.js';

// Every slice as short as it can be: maintenance yields a turn of the event loop after
// each step, so even a small store's compaction spans many turns with writes between.
vi.mock('../src/slices.js', (importOriginal) => import('./support/every-step-slices.js').then((mock) => mock.everyStepSlices(importOriginal)));

type Op =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'batch'; operations: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> }
  | { kind: 'view' }
  | { kind: 'scan' };

const key = fc.integer({ min: 0, max: 11 }).map((n) => `k${n}`);
const value = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ minLength: 200, maxLength: 600 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      operations: fc.array(fc.oneof(fc.record({ type: fc.constant('put' as const), key, value }), fc.record({ type: fc.constant('del' as const), key })), { minLength: 1, maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'view' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'scan' as const }) },
);

describe('a compaction in slices', () => {
  it('interleaves with puts, deletes, batches, reads and read views, and loses nothing, before and after a reopen', async () => {
    let opsWhileCompacting = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), fc.array(op, { minLength: 1, maxLength: 60 }), async (before, during) => {
        const dir = temporaryDir();
        const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
        const model = new Map<string, string>();
        const views: Array<[ReadView<string>, Map<string, string>]> = [];
        const apply = (next: Op): void => {
          if (next.kind === 'put') {
            kv.put(next.key, next.value);
            model.set(next.key, next.value);
          } else if (next.kind === 'delete') {
            kv.delete(next.key);
            model.delete(next.key);
          } else if (next.kind === 'batch') {
            kv.batch(next.operations);
            for (const o of next.operations) {
              if (o.type === 'put') model.set(o.key, o.value);
              else model.delete(o.key);
            }
          } else if (next.kind === 'view') {
            views.push([kv.snapshot(), new Map(model)]);
          } else {
            expect(contents(kv)).toEqual(model);
          }
        };
        for (const next of before) apply(next);
        await kv.sync();
        views.push([kv.snapshot(), new Map(model)]);
        let compacting = true;
        const compaction = kv.compact().finally(() => (compacting = false));
        for (const next of during) {
          apply(next);
          if (compacting) opsWhileCompacting++;
          for (const k of ['k0', 'k5', 'k11']) expect(kv.get(k)).toBe(model.get(k));
          await turn();
        }
        const sync = kv.sync();
        await compaction;
        await sync;
        expect(kv.stats().generation).toBe(2);
        expect(contents(kv)).toEqual(model);
        for (const [view, then] of views) {
          expect(contents(view)).toEqual(then);
          expect(view.size).toBe(then.size);
          view.close();
        }
        const deadBytes = kv.stats().deadBytes;
        await kv.close();
        expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
        expect(contents(reopened)).toEqual(model);
        expect(reopened.stats().generation).toBe(2);
        expect(reopened.stats().deadBytes).toBe(deadBytes);
        await reopened.close();
      }),
      { numRuns: 40 },
    );
    // The property is only worth something if writes did land mid-compaction.
    expect(opsWhileCompacting).toBeGreaterThan(100);
  });

  it('is abandoned by close when it started on its own, and nothing on disk changes', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 0.5 });
    const model = new Map<string, string>();
    // Past 1 MiB of log, mostly overwritten values: the write that crosses it starts a compaction.
    for (let i = 0; i < 1100; i++) {
      const k = `k${i % 10}`;
      const v = `${i}:`.padEnd(1000, 'x');
      kv.put(k, v);
      model.set(k, v);
    }
    await turn();
    expect(existsSync(join(dir, 'wal-2.log.tmp'))).toBe(true);
    await kv.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('wal-'))).toEqual(['wal-1.log']);
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.stats().generation).toBe(1);
    expect(contents(reopened)).toEqual(model);
    await reopened.close();
  });

  it('finishes first when it was asked for, and close then resolves', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
    for (let i = 0; i < 500; i++) kv.put(`k${i % 50}`, `value ${i}`);
    const compaction = kv.compact();
    await turn();
    await kv.close();
    await compaction;
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.stats().generation).toBe(2);
    expect(reopened.size).toBe(50);
    expect(reopened.get('k7')).toBe('value 457');
    await reopened.close();
  });
});
