import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef, type CompactionPlan } from '../src/index.js';
import { FailingIo } from './failing-io.js';
import { bytes, plain, tempDir } from './helpers.js';

interface Written {
  ref: PayloadRef;
  payload: Uint8Array;
}

/** Old refs all resolve to their bytes, or (when mapped) the new refs all do. */
function resolvesAll(store: PayloadStore, live: readonly Written[], mapping: ReadonlyMap<string, PayloadRef> | null): boolean {
  const sets = [live.map(({ ref }) => ref)];
  if (mapping !== null) sets.push(live.map(({ ref }) => mapping.get(PayloadRef.key(ref)) ?? ref));
  return sets.some((refs) =>
    refs.every((ref, index) => {
      try {
        return Buffer.from(plain(store.read(ref))).equals(Buffer.from((live[index] as Written).payload));
      } catch {
        return false;
      }
    }),
  );
}

async function prepare(dir: string, io: FailingIo): Promise<{ store: PayloadStore; live: Written[] }> {
  const store = await PayloadStore.open(dir, { io, segmentBytes: 160, durability: { mode: 'explicit' } });
  const live: Written[] = [];
  for (let index = 0; index < 12; index++) {
    const payload = bytes(`payload ${index} `.repeat(1 + (index % 3)));
    const ref = store.append(payload);
    if (index % 3 !== 1) live.push({ ref, payload });
  }
  await store.sync();
  return { store, live };
}

/**
 * Fails the Io after every possible number of mutating operations during compact +
 * commit (or abort), then reopens with the real Io: every live payload must resolve
 * through the old refs or, once compact has resolved, through the new ones — and after
 * commit has resolved, through the new ones.
 */
describe('compaction crash points', () => {
  for (const finish of ['commit', 'abort'] as const) {
    it(`every failure point during compact + ${finish} leaves old or new refs resolvable`, async () => {
      let completed = false;
      let points = 0;
      for (let failAfter = 0; !completed; failAfter++) {
        expect(failAfter).toBeLessThan(200);
        points = failAfter;
        const dir = tempDir();
        const io = new FailingIo();
        const { store, live } = await prepare(dir, io);
        io.failAfter = io.operations + failAfter;
        let plan: CompactionPlan | null = null;
        let finished = false;
        try {
          plan = await store.compact(
            live.map(({ ref }) => ref),
            { seal: true },
          );
          await (finish === 'commit' ? plan.commit() : plan.abort());
          finished = true;
          completed = io.operations < io.failAfter;
        } catch {
          // The injected failure: from here on the store is as a crash left it.
        }
        await store.close().catch(() => undefined);

        await using reopened = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
        const pending = reopened.pendingCompaction();
        const mapping = plan?.mapping ?? pending?.mapping ?? null;
        expect(resolvesAll(reopened, live, mapping), `failure after ${failAfter} operations`).toBe(true);
        if (plan === null && pending === null) expect(resolvesAll(reopened, live, null)).toBe(true);
        if (finished && finish === 'commit') expect(resolvesAll(reopened, live.map((entry) => ({ ...entry, ref: (plan as CompactionPlan).resolve(entry.ref) })), null)).toBe(true);
        if (finished && finish === 'abort') expect(resolvesAll(reopened, live, null)).toBe(true);
        if (pending !== null) {
          await pending.commit();
          expect(resolvesAll(reopened, live.map((entry) => ({ ...entry, ref: pending.resolve(entry.ref) })), null)).toBe(true);
        }
        expect(readdirSync(dir).filter((name) => name.endsWith('.compacting'))).toEqual([]);
        expect(existsSync(dir)).toBe(true);
      }
      // compact + finish is well over a dozen mutating operations; each one was a failure point.
      expect(points).toBeGreaterThan(12);
    });
  }
});
