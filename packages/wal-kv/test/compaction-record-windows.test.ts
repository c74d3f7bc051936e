import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { WalKv } from '../src/index.js';
import { COMPACTION_PUTS_PER_CALL } from '../src/limits.js';
import type { ReadView } from '../src/read-view.js';
import { contents, temporaryDir, turn } from './helpers.js';

// Every slice as short as it can be: a compaction yields a turn of the event loop after
// each native call, so a record of more puts than one call takes is copied in several
// calls with writes, deletes and read views in between.
vi.mock('../src/slices.js', (importOriginal) => import('./support/every-step-slices.js').then((mock) => mock.everyStepSlices(importOriginal)));

/** Keys `k0`..`k<KEYS - 1>`: large records wrap around them (duplicate keys in one record). */
const KEYS = 5000;

/**
 * A record of more puts than one `copyLivePuts` call takes: `count` operations over the
 * keys from `offset` on by `stride`, wrapping at `keyspace` (so one record may put a key
 * more than once, or put it after deleting it), every `deleteEvery`th a delete.
 */
interface Large {
  kind: 'large';
  count: number;
  keyspace: number;
  offset: number;
  stride: number;
  deleteEvery: number;
}

type Command =
  | { kind: 'put'; key: string }
  | { kind: 'delete'; key: string }
  | { kind: 'batch'; operations: Array<{ type: 'put' | 'del'; key: string }> }
  | Large
  | { kind: 'view' }
  | { kind: 'closeView' }
  | { kind: 'compact' }
  | { kind: 'turns'; count: number }
  | { kind: 'sync' }
  | { kind: 'check' }
  | { kind: 'reopen' };

// Small writes mostly hit the first keys, which every large record puts too.
const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: KEYS - 1 })).map((n) => `k${n}`);
const large: fc.Arbitrary<Large> = fc.record({
  kind: fc.constant('large' as const),
  count: fc.integer({ min: COMPACTION_PUTS_PER_CALL + 1, max: COMPACTION_PUTS_PER_CALL * 3 + 100 }),
  keyspace: fc.integer({ min: 300, max: KEYS }),
  offset: fc.nat(KEYS),
  stride: fc.constantFrom(1, 7, 13),
  deleteEvery: fc.constantFrom(0, 2, 5, 97),
});
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), operations: fc.array(fc.record({ type: fc.constantFrom('put' as const, 'del' as const), key }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 2, arbitrary: large },
  { weight: 1, arbitrary: fc.constant({ kind: 'view' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'closeView' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('turns' as const), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'check' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

function largeOperations(command: Large): Array<{ type: 'put' | 'del'; key: string }> {
  return Array.from({ length: command.count }, (_, i) => ({
    type: command.deleteEvery > 0 && i % command.deleteEvery === command.deleteEvery - 1 ? ('del' as const) : ('put' as const),
    key: `k${(command.offset + i * command.stride) % command.keyspace}`,
  }));
}

describe('compactions of records larger than one native call takes, among writes, read views and reopens', () => {
  it('behave like a Map: nothing lost, resurrected or stale, in the store, its read views and after a reopen', async () => {
    let splitCopies = 0;
    let writesWhileCompacting = 0;
    await fc.assert(
      // Each run begins with a large record and its compaction (whose frames a later
      // compaction takes in several calls again), then anything.
      fc.asyncProperty(large, fc.array(command, { minLength: 4, maxLength: 40, size: 'medium' }), async (first, rest) => {
        const commands: Command[] = [first, { kind: 'compact' }, ...rest];
        const dir = temporaryDir();
        const options = { valueEncoding: 'utf8' as const, checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 };
        let kv = await WalKv.open<string>(dir, options);
        const model = new Map<string, string>();
        let views: Array<[ReadView<string>, Map<string, string>]> = [];
        let compaction: Promise<void> | null = null;
        let largeSinceCompaction = false;
        // Every value written is new, so a stale copy cannot pass for the right one.
        let written = 0;
        const write = (operations: ReadonlyArray<{ type: 'put' | 'del'; key: string }>): void => {
          if (compaction !== null) writesWhileCompacting++;
          const batch = operations.map((operation) => (operation.type === 'put' ? { type: 'put' as const, key: operation.key, value: `v${written++}` } : { type: 'del' as const, key: operation.key }));
          kv.batch(batch);
          for (const operation of batch) {
            if (operation.type === 'put') model.set(operation.key, operation.value);
            else model.delete(operation.key);
          }
        };
        const settle = async (): Promise<void> => {
          await compaction;
          compaction = null;
        };
        const checkViews = (): void => {
          for (const [view, then] of views) expect(contents(view)).toEqual(then);
        };
        try {
          for (const next of commands) {
            switch (next.kind) {
              case 'put':
                write([{ type: 'put', key: next.key }]);
                break;
              case 'delete':
                write([{ type: 'del', key: next.key }]);
                break;
              case 'batch':
                write(next.operations);
                break;
              case 'large':
                write(largeOperations(next));
                largeSinceCompaction = true;
                break;
              case 'view':
                views.push([kv.snapshot(), new Map(model)]);
                break;
              case 'closeView':
                views.shift()?.[0].close();
                break;
              case 'compact':
                if (compaction === null) {
                  if (largeSinceCompaction) splitCopies++;
                  largeSinceCompaction = false;
                  compaction = kv.compact().finally(() => (compaction = null));
                }
                break;
              case 'turns':
                for (let i = 0; i < next.count; i++) await turn();
                break;
              case 'sync':
                await kv.sync();
                break;
              case 'check':
                expect(contents(kv)).toEqual(model);
                checkViews();
                break;
              case 'reopen':
                await settle();
                checkViews();
                for (const [view] of views) view.close();
                views = [];
                await kv.close();
                kv = await WalKv.open<string>(dir, options);
                expect(contents(kv)).toEqual(model);
                break;
            }
            for (const k of ['k0', 'k1', 'k7', 'k299', 'k4999']) expect(kv.get(k)).toBe(model.get(k));
            await turn();
          }
          await settle();
          expect(contents(kv)).toEqual(model);
          checkViews();
        } finally {
          await compaction?.catch(() => undefined);
          for (const [view] of views) view.close();
          await kv.close();
        }
        expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        const reopened = await WalKv.open<string>(dir, options);
        expect(contents(reopened)).toEqual(model);
        await reopened.close();
      }),
      { numRuns: 100 },
    );
    // Worth something only if compactions did copy records of many calls, with writes between.
    expect(splitCopies).toBeGreaterThan(10);
    expect(writesWhileCompacting).toBeGreaterThan(100);
  });
});
