// The common flush (no roll since the last one) awaits the active segment's datasync
// directly. A roll can seal that very segment while the datasync is in flight, starting
// the sealed segment's own sync: the flush acknowledges only what it planned, the next
// flush waits for the roll's sync (and writes the sealed-offset checkpoint and the index
// frames after it), and a failure of the in-flight sync fails both and poisons the log.
import { FaultFs, type DataLoss, type EntryLoss } from '@keel/conformance';
import { InterceptedIo, KeelError, isKeelError, type IoMutation } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, segmentPaths } from '../src/format.js';
import { expectReopened, preparedLogOn, record } from './support/id-records.js';
import { idFrameBytes } from './support/id-frames.js';

const DIR = '/store';
/**
 * Segment 0 holds six records in three frames, one per append: the three synced ones, the
 * fourth, and two more; the append after them rolls (a batch that does not fit the rest
 * of a segment rolls before it writes anything).
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3) + idFrameBytes(1) + idFrameBytes(2);
const SEGMENT_0 = segmentPaths(DIR, 0).log;

/** From `hold()` on, every datasync of segment 0 waits (each on a gate of its own) until `release()` or `fail()`. */
class HeldSegmentSyncs extends InterceptedIo {
  #held = false;
  readonly #gates: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Datasyncs of segment 0 since `hold()`. */
  started = 0;

  hold(): void {
    this.#held = true;
  }

  get waiting(): number {
    return this.#gates.length;
  }

  /** Lets every held datasync run, and holds none after. */
  release(): void {
    this.#held = false;
    for (const gate of this.#gates.splice(0)) gate.resolve();
  }

  /** Lets the first held datasync run (the others stay held, and later ones are held too). */
  releaseFirst(): void {
    this.#gates.shift()?.resolve();
  }

  /** Fails the first held datasync (the others stay held). */
  failFirst(error: unknown): void {
    this.#gates.shift()?.reject(error);
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'datasync' && path === SEGMENT_0 && this.#held) {
      this.started++;
      await new Promise<void>((resolve, reject) => this.#gates.push({ resolve, reject }));
    }
    return run();
  }
}

/** Until `done()` holds (each turn lets the flush take its next step); fails rather than spin for ever. */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !done(); turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

function open(io: FaultFs | HeldSegmentSyncs): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, now: () => 1_700_000_000_000 });
}

/** Whether `promise` has settled, as seen from the next turn on. */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

/**
 * Three records synced and the prepared file made; then segment 0's datasyncs are held, a
 * fourth record is appended and a sync starts (a common flush: segment 0's datasync
 * alone), and while that datasync is held an append of two more records fills segment 0
 * and one of `rolled` more rolls into segment 1 (starting segment 0's sealing sync, held
 * too), and a second sync is asked for.
 */
async function rolledDuringCommonFlush(rolled: number): Promise<{ log: SegmentLog; fs: FaultFs; io: HeldSegmentSyncs; first: Promise<number>; second: Promise<number> }> {
  const { fs, io, log } = await preparedLogOn(DIR, (disk) => new HeldSegmentSyncs(disk), open);
  io.hold();
  log.append(record(3));
  const first = log.sync();
  await turnsUntil(() => io.waiting === 1);
  log.appendBatch([record(4), record(5)]);
  log.appendBatch(Array.from({ length: rolled }, (_, index) => record(6 + index)));
  expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 6]);
  expect(io.waiting).toBe(2);
  const second = log.sync();
  // Observed from the start: a test that fails them awaits them only later.
  first.catch(() => undefined);
  second.catch(() => undefined);
  return { log, fs, io, first, second };
}

/** Turns a flush that wrongly stopped waiting would take to resolve; a correct one is still held after them. */
const TURNS_TO_MISBEHAVE = 200;

const crashPlan = fc.record({
  rolled: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  data: fc.constantFrom<DataLoss>({ mode: 'lose-all' }, { mode: 'byte-prefix' }, { mode: 'torn', granularity: 1 }, { mode: 'subset' }),
  entries: fc.constantFrom<EntryLoss>('keep-all', 'lose-all', 'subset'),
});

it('a roll while the common flush awaits its datasync: a power cut the moment either sync resolves keeps all it acknowledged', async () => {
  const property = fc.asyncProperty(crashPlan, async ({ rolled, seed, data, entries }) => {
    const { log, fs, io, first, second } = await rolledDuringCommonFlush(rolled);
    const plan = { seed, data, entries };
    // The disk as a crash leaves it at the instant each sync resolves.
    const atFirst = first.then((acknowledged) => ({ acknowledged, disk: fs.crash(plan).fs }));
    const atSecond = second.then((acknowledged) => ({ acknowledged, disk: fs.crash(plan).fs }));
    const secondSettled = settledFlag(second);
    try {
      expect(log.durableOffset).toBe(3);
      // The common flush's own datasync returns; segment 0's sealing sync stays held.
      io.releaseFirst();
      const early = await atFirst;
      expect(early.acknowledged).toBe(4);
      for (let turn = 0; turn < TURNS_TO_MISBEHAVE && !secondSettled(); turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      // Records 4 and 5 of segment 0 rest on the held sync: nothing may acknowledge them yet.
      expect(secondSettled()).toBe(false);
      expect(log.durableOffset).toBe(4);
      io.release();
      const late = await atSecond;
      expect(late.acknowledged).toBe(6 + rolled);
      // Segment 0 was synced twice in all: by the common flush, and by the roll, whose sync the second flush waited for.
      expect(io.started).toBe(2);
      await expectReopened(await open(early.disk), early.acknowledged);
      await expectReopened(await open(late.disk), late.acknowledged);
    } finally {
      io.release();
      await log.close();
    }
  });
  await fc.assert(property, { numRuns: 60 });
});
it('a failure of the common flush datasync that a roll overtook fails both syncs and poisons the log, acknowledging nothing more', async () => {
  const { log, io, first, second } = await rolledDuringCommonFlush(1);
  io.failFirst(new KeelError('KEEL_IO', 'injected EIO'));
  await expect(first).rejects.toSatisfy((error) => isKeelError(error));
  io.release();
  await expect(second).rejects.toSatisfy((error) => isKeelError(error));
  expect(log.durableOffset).toBe(3);
  await expect(log.sync()).rejects.toSatisfy((error) => isKeelError(error, 'KEEL_POISONED'));
  await expect(log.close()).rejects.toSatisfy((error) => isKeelError(error, 'KEEL_POISONED'));
});
