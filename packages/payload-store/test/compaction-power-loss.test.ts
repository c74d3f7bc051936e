import { FaultFs, type CrashSpec } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { PayloadStore, PayloadRef, type CompactionPlan } from '../src/index.js';
import { bytes, plain } from './helpers.js';

const DIR = '/store';
const OPTIONS = { segmentBytes: 160, durability: { mode: 'explicit' } } as const;

interface Written {
  ref: PayloadRef;
  payload: Uint8Array;
}

/** A store on a simulated disk with a few sealed segments, some payloads live, all durable. */
async function prepare(): Promise<{ fs: FaultFs; store: PayloadStore; live: Written[] }> {
  const fs = new FaultFs();
  const store = await PayloadStore.open(DIR, { ...OPTIONS, io: fs });
  const live: Written[] = [];
  for (let index = 0; index < 12; index++) {
    const payload = bytes(`payload ${index} `.repeat(1 + (index % 3)));
    const ref = store.append(payload);
    if (index % 3 !== 1) live.push({ ref, payload });
  }
  await store.sync();
  return { fs, store, live };
}

function resolvesThrough(store: PayloadStore, live: readonly Written[], move: (ref: PayloadRef) => PayloadRef): boolean {
  return live.every(({ ref, payload }) => {
    try {
      return Buffer.from(plain(store.read(move(ref)))).equals(Buffer.from(payload));
    } catch {
      return false;
    }
  });
}

const CRASHES: Array<(point: number) => CrashSpec> = [
  () => ({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }),
  () => ({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }),
  (point) => ({ seed: point, data: { mode: 'subset' }, entries: 'subset' }),
];

/**
 * Power loss at every disk operation of compact + commit, on a disk that loses what was
 * not synced (all of it, none of it, or any subset of writes and directory entries):
 * after reopening, every live payload resolves through the old refs or the new ones,
 * through the new ones once commit had resolved, through the old ones once abort had.
 */
describe('compaction under power loss', () => {
  for (const finish of ['commit', 'abort'] as const) {
    it(`every crash point of compact + ${finish} leaves old or new refs resolvable`, async () => {
      const dry = await prepare();
      const before = dry.fs.mutations;
      const dryPlan = await dry.store.compact(dry.live.map(({ ref }) => ref), { seal: true });
      await (finish === 'commit' ? dryPlan.commit() : dryPlan.abort());
      const points = dry.fs.mutations - before;
      expect(points).toBeGreaterThan(10);
      for (let point = 1; point <= points; point++) {
        for (const crashAt of CRASHES) {
          const { fs, store, live } = await prepare();
          fs.crashAtMutation(point);
          let plan: CompactionPlan | null = null;
          let finished = false;
          try {
            plan = await store.compact(live.map(({ ref }) => ref), { seal: true });
            await (finish === 'commit' ? plan.commit() : plan.abort());
            finished = true;
          } catch {
            // The disk froze: the process is gone from here on.
          }
          const disk = fs.crash(crashAt(point)).fs;
          const reopened = await PayloadStore.open(DIR, { ...OPTIONS, io: disk });
          const pending = reopened.pendingCompaction();
          const mapping = plan?.mapping ?? pending?.mapping ?? new Map<string, PayloadRef>();
          const moved = (ref: PayloadRef) => mapping.get(PayloadRef.key(ref)) ?? ref;
          const context = `crash at operation ${point} of ${points}, ${JSON.stringify(crashAt(point))}`;
          if (finished) expect(resolvesThrough(reopened, live, finish === 'commit' ? moved : (ref) => ref), context).toBe(true);
          else expect(resolvesThrough(reopened, live, (ref) => ref) || resolvesThrough(reopened, live, moved), context).toBe(true);
          await pending?.commit();
          await reopened.close();
          // Recovery is idempotent and the result is a clean store.
          const again = await PayloadStore.open(DIR, { ...OPTIONS, io: disk });
          expect(again.recovery.actions, context).toEqual([]);
          expect(again.pendingCompaction(), context).toBeNull();
          await again.close();
        }
      }
    });
  }
});
