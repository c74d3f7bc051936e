import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef, type CompactionPlan } from '../src/index.js';
import { codeOf, plain, tempDir } from './helpers.js';

type Operation =
  | { kind: 'append'; size: number }
  | { kind: 'append-batch'; sizes: number[] }
  | { kind: 'drop'; pick: number }
  | { kind: 'seal' }
  | { kind: 'compact'; seal: boolean }
  | { kind: 'commit' }
  | { kind: 'abort' }
  | { kind: 'sync' }
  | { kind: 'reopen' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('append' as const), size: fc.integer({ min: 0, max: 90 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('append-batch' as const), sizes: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 6 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'seal' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('compact' as const), seal: fc.boolean() }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'commit' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'abort' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'sync' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
);

/** The caller's side: the refs it still needs, and the compaction it has not finished. */
interface Model {
  live: Map<string, { ref: PayloadRef; payload: Uint8Array }>;
  plan: CompactionPlan | null;
  counter: number;
}

const OPTIONS = { segmentBytes: 200, durability: { mode: 'explicit' } } as const;

async function apply(store: PayloadStore, model: Model, step: Operation, dir: string): Promise<PayloadStore> {
  const payloadOf = (size: number) => new Uint8Array(size).fill(model.counter++ % 251);
  switch (step.kind) {
    case 'append': {
      const payload = payloadOf(step.size);
      const ref = store.append(payload);
      model.live.set(PayloadRef.key(ref), { ref, payload });
      return store;
    }
    case 'append-batch': {
      const payloads = step.sizes.map(payloadOf);
      store.appendBatch(payloads).forEach((ref, index) => model.live.set(PayloadRef.key(ref), { ref, payload: payloads[index] as Uint8Array }));
      return store;
    }
    case 'drop': {
      const keys = [...model.live.keys()];
      if (keys.length > 0) model.live.delete(keys[step.pick % keys.length] as string);
      return store;
    }
    case 'seal':
      store.seal();
      return store;
    case 'compact':
      if (model.plan !== null) {
        expect(await codeOf(() => store.compact([]))).toBe('KEEL_BAD_ARGUMENT');
        return store;
      }
      model.plan = await store.compact(
        [...model.live.values()].map((entry) => entry.ref),
        { seal: step.seal },
      );
      if (model.plan.output === null) model.plan = null;
      return store;
    case 'commit':
      if (model.plan === null) return store;
      await model.plan.commit();
      remap(model, model.plan);
      model.plan = null;
      return store;
    case 'abort':
      await model.plan?.abort();
      model.plan = null;
      return store;
    case 'sync':
      await store.sync();
      return store;
    case 'reopen': {
      await store.close();
      const reopened = await PayloadStore.open(dir, OPTIONS);
      const pending = reopened.pendingCompaction();
      expect(pending === null).toBe(model.plan === null);
      if (pending !== null) expect([...pending.mapping]).toEqual([...(model.plan as CompactionPlan).mapping]);
      model.plan = pending;
      return reopened;
    }
  }
}

function remap(model: Model, plan: CompactionPlan): void {
  const next = new Map<string, { ref: PayloadRef; payload: Uint8Array }>();
  for (const { ref, payload } of model.live.values()) {
    const moved = plan.resolve(ref);
    next.set(PayloadRef.key(moved), { ref: moved, payload });
  }
  model.live = next;
}

describe('model: append / seal / compact / commit / abort / reopen', () => {
  it('every live ref reads back its bytes after every step, and scan keeps append order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 30 }), async (operations) => {
        const dir = tempDir();
        const model: Model = { live: new Map(), plan: null, counter: 1 };
        let store = await PayloadStore.open(dir, OPTIONS);
        try {
          for (const step of operations) {
            store = await apply(store, model, step, dir);
            for (const { ref, payload } of model.live.values()) expect(plain(store.read(ref))).toEqual(payload);
            // A scan sees the live payloads in the order they were appended, compaction or not.
            const scanned = [...store.scan()].map(({ ref }) => PayloadRef.key(ref)).filter((key) => model.live.has(key));
            expect(scanned).toEqual([...model.live.keys()]);
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
