import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/index.js';

/**
 * A target whose flushes the test completes or fails by hand, in any order against
 * appends, waits and synchronous syncs. `provenThrough` is the largest frontier a
 * completed flush captured before it began: nothing above it may ever be reported durable.
 */
class ManualTarget {
  written = 0;
  provenThrough = 0;
  flushes: { frontier: number; settle(error?: Error): void }[] = [];
  failSync = false;

  writtenThrough(): number {
    return this.written;
  }

  flush(): Promise<void> {
    const frontier = this.written;
    return new Promise<void>((resolve, reject) => {
      this.flushes.push({
        frontier,
        settle: (error) => {
          if (error !== undefined) return reject(error);
          this.provenThrough = Math.max(this.provenThrough, frontier);
          resolve();
        },
      });
    });
  }

  flushSync(): void {
    const frontier = this.written;
    if (this.failSync) throw new Error('EIO: fdatasync');
    this.provenThrough = Math.max(this.provenThrough, frontier);
  }
}

type Step =
  | { kind: 'append'; bytes: number }
  | { kind: 'wait'; back: number }
  | { kind: 'complete' }
  | { kind: 'fail' }
  | { kind: 'sync-sync'; fails: boolean }
  | { kind: 'tick' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('wait' as const), back: fc.oneof(fc.constant(0), fc.nat({ max: 60 })) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'complete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fail' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync-sync' as const), fails: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'tick' as const }) },
);

/** Lets every queued microtask (and the promise chains they start) run. */
const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('group commit cohorts', () => {
  it('a wait resolves only through a frontier a completed flush captured, every wait settles, and a failure reaches every waiter of its moment', async () => {
    await fc.assert(
      // Half the runs inject no failure at all: a failure poisons the commit for the rest of the run.
      fc.asyncProperty(fc.array(stepArbitrary, { maxLength: 60 }), fc.boolean(), async (steps, withFailures) => {
        const target = new ManualTarget();
        const commit = new GroupCommit(target, 0, () => undefined);
        const early: string[] = [];
        const outcomes: Promise<'resolved' | 'rejected'>[] = [];
        let failed = false;
        for (const step of steps) {
          if (step.kind === 'append') target.written += step.bytes;
          else if (step.kind === 'wait') {
            const position = Math.max(0, target.written - step.back);
            outcomes.push(
              commit.syncThrough(position).then(
                (durable) => {
                  if (position > target.provenThrough || durable > target.provenThrough || durable < position) early.push(`${position} → ${durable} (proven ${target.provenThrough})`);
                  return 'resolved';
                },
                () => 'rejected',
              ),
            );
          } else if (step.kind === 'complete' || (step.kind === 'fail' && !withFailures)) target.flushes.shift()?.settle();
          else if (step.kind === 'fail') {
            const flush = target.flushes.shift();
            if (flush !== undefined) {
              failed = true;
              flush.settle(new Error('EIO: fdatasync'));
            }
          } else if (step.kind === 'sync-sync') {
            target.failSync = step.fails && withFailures;
            try {
              commit.syncSync();
            } catch {
              failed = true;
            }
            target.failSync = false;
          } else await microtasks();
        }
        // Complete every flush still pending, and every one that starts because of it.
        for (;;) {
          await microtasks();
          const flush = target.flushes.shift();
          if (flush === undefined) break;
          flush.settle();
        }
        await commit.drain();
        const settled = await Promise.all(outcomes);
        expect(early).toEqual([]);
        if (!failed) {
          expect(settled.every((outcome) => outcome === 'resolved')).toBe(true);
          expect(commit.durableThrough).toBe(target.provenThrough);
        }
        expect(commit.durableThrough).toBeLessThanOrEqual(target.provenThrough);
      }),
      { numRuns: 1500 },
    );
  });

  it('waiters covered by one flush share one promise; a covered wait gets a settled one', async () => {
    const target = new ManualTarget();
    const commit = new GroupCommit(target);
    target.written = 10;
    const first = commit.syncThrough(5);
    const second = commit.syncThrough(10);
    expect(second).toBe(first);
    await microtasks();
    target.flushes.shift()?.settle();
    expect(await first).toBe(10);
    expect(commit.syncThrough(10)).toBe(commit.syncThrough(3));
  });
});
