import { FaultFs, type DataLoss, type EntryLoss } from '@keel/conformance';
import { InterceptedIo, ioError, parentDir, type IoMutation } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, PREPARED_SEGMENT_NAME, segmentPaths } from '../src/format.js';
import { idFrameBytes } from './support/id-frames.js';
import { backgroundWorkSettled, maintenanceQueued } from './support/background-work.js';

const DIR = '/store';
/**
 * Records of 8-byte ids: three of one append (one frame) fill a segment, so a batch of four
 * or more rolls, and so does any append to a segment that holds a record already.
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3);
const INDEX_FILE = /(\d{20})\.(index|timeindex)$/;

/**
 * Holds every datasync of an index file until the test releases or fails it: a flush's
 * sealed frames stay in the page cache only, the window between the flush's
 * acknowledgement and their durability held open.
 */
class HeldIndexSyncs extends InterceptedIo {
  holding = false;
  /** Only the frames of segments from this base offset are held: those of segments sealed earlier may still be on their way. */
  holdFrom = 0;
  readonly held: { release(): void; fail(error: unknown): void }[] = [];
  readonly #waiting: { count: number; resolve(): void }[] = [];

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    const base = INDEX_FILE.exec(path)?.[1];
    if (!this.holding || operation !== 'datasync' || base === undefined || Number(base) < this.holdFrom) return run();
    const held = new Promise<void>((release, fail) => this.held.push({ release, fail })).then(run);
    for (const waiter of this.#waiting.filter((waiting) => this.held.length >= waiting.count)) waiter.resolve();
    return held;
  }

  /** Resolves once `count` datasyncs are held: a flush's sealed frames are written after it resolved, in the background. */
  heldAtLeast(count: number): Promise<void> {
    if (this.held.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ count, resolve }));
  }

  releaseAll(): void {
    this.holding = false;
    for (const sync of this.held.splice(0)) sync.release();
  }
}

/** Records every disk-changing operation made once `closed` is set: a closed log makes none. */
class OperationsAfterClose extends InterceptedIo {
  closed = false;
  readonly late: string[] = [];

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (this.closed) this.late.push(`${operation} ${path}`);
    return super.aroundSync(operation, path, run);
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) this.late.push(`${operation} ${path}`);
    return super.aroundAsync(operation, path, run);
  }
}

function record(id: number): { value: Uint8Array } {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setFloat64(0, id, true);
  return { value };
}

function idOf(value: Uint8Array): number {
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(0, true);
}

function freshDisk(): FaultFs {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  fs.syncDirSync(parentDir(DIR));
  return fs;
}

function open(io: FaultFs | InterceptedIo): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

function ids(log: SegmentLog): number[] {
  return log.read(log.startOffset, { maxBytes: 1 << 20 }).map((found) => idOf(found.value));
}

function appendIds(log: SegmentLog, from: number, count: number): void {
  log.appendBatch(Array.from({ length: count }, (_, index) => record(from + index)));
}

const rebuiltIndexes = (log: SegmentLog): number => log.recovery.actions.filter((action) => action.kind === 'rebuilt-index').length;

/** Power cuts of every kind a kernel leaves, over what was unsynced when the flush resolved. */
const crashPlan = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  data: fc.constantFrom<DataLoss>({ mode: 'keep-all' }, { mode: 'lose-all' }, { mode: 'byte-prefix' }, { mode: 'subset' }, { mode: 'torn', granularity: 512 }),
  entries: fc.constantFrom<EntryLoss>('keep-all', 'lose-all', 'subset'),
});

/** A log on a fresh disk whose index files' datasyncs can be held (none is yet). */
async function logWithHeldIndexSyncs(): Promise<{ fs: FaultFs; io: HeldIndexSyncs; log: SegmentLog }> {
  const fs = freshDisk();
  const io = new HeldIndexSyncs(fs);
  return { fs, io, log: await open(io) };
}

/** A log that appended `count` records (rolling) and had them acknowledged, its sealed frames' datasyncs held. */
async function acknowledgedWithFramesHeld(count: number): Promise<{ fs: FaultFs; io: HeldIndexSyncs; log: SegmentLog }> {
  const { fs, io, log } = await logWithHeldIndexSyncs();
  io.holding = true;
  appendIds(log, 0, count);
  expect(await log.sync()).toBe(count);
  await io.heldAtLeast(1);
  return { fs, io, log };
}

/** Opens what a power cut that loses every unsynced write and entry leaves of `fs`, checks it, closes it. */
async function afterPowerCut(fs: FaultFs, check: (log: SegmentLog) => Promise<void>): Promise<void> {
  const reopened = await open(fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs);
  try {
    await check(reopened);
  } finally {
    await reopened.close();
  }
}

describe('a flush that sealed segments resolves before their index frames are durable', () => {
  it('and a crash in that window keeps every acknowledged record: open reads the sealed logs whole and rebuilds their indexes', async () => {
    const property = fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 4 }), fc.integer({ min: 4, max: 12 }), crashPlan, async (before, rolling, plan) => {
      const { fs, io, log } = await logWithHeldIndexSyncs();
      let written = 0;
      for (const count of before) {
        appendIds(log, written, count);
        written += count;
        await log.sync();
      }
      io.holding = true;
      io.holdFrom = log.segments().at(-1)?.baseOffset ?? 0;
      const sealedBefore = log.segments().filter((segment) => segment.sealed).length;
      appendIds(log, written, rolling);
      written += rolling;
      const acknowledged = await log.sync();
      expect(acknowledged).toBe(written);
      const sealedNow = log.segments().filter((segment) => segment.sealed).length;
      // The first segment the batch sealed has its frames written, their datasyncs held; the others' wait their turn.
      expect(sealedNow).toBeGreaterThan(sealedBefore);
      await io.heldAtLeast(2);
      expect(io.held.length).toBe(2);

      const crashed = await open(fs.crash(plan).fs);
      try {
        expect(ids(crashed)).toEqual(Array.from({ length: written }, (_, index) => index));
        if (plan.data.mode === 'lose-all') expect(rebuiltIndexes(crashed)).toBeGreaterThanOrEqual(sealedNow - sealedBefore);
        await crashed.verify();
        appendIds(crashed, written, 1);
        expect(await crashed.sync()).toBe(written + 1);
      } finally {
        await crashed.close();
        io.releaseAll();
        await log.close();
      }
    });
    await fc.assert(property, { numRuns: 60 });
  });

  it('close waits for them before its clean-shutdown record: the next open, after any power cut, has nothing to rebuild', async () => {
    const { fs, io, log } = await acknowledgedWithFramesHeld(10);
    const closing = log.close();
    io.releaseAll();
    await closing;
    await afterPowerCut(fs, async (reopened) => {
      expect(ids(reopened)).toEqual(Array.from({ length: 10 }, (_, index) => index));
      expect(rebuiltIndexes(reopened)).toBe(0);
    });
  });

  it('close waits for those of a flush still running when it began (durability none skips the final sync): nothing is written after close', async () => {
    const fs = freshDisk();
    const io = new OperationsAfterClose(fs);
    const log = await SegmentLog.open(DIR, { io, durability: { mode: 'none' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
    // Rolls, and asks for a flush that close does not sync after but must wait for.
    appendIds(log, 0, 10);
    await log.close();
    io.closed = true;
    // Whatever the flush left queued (its frames start once its waiters ran) runs by the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(io.late).toEqual([]);
    const reopened = await open(fs);
    try {
      expect(ids(reopened)).toEqual(Array.from({ length: 10 }, (_, index) => index));
      expect(rebuiltIndexes(reopened)).toBe(0);
    } finally {
      await reopened.close();
    }
  });

  it('a write of them that fails poisons the log: the next sync and close report it, and nothing acknowledged is lost', async () => {
    const { fs, io, log } = await acknowledgedWithFramesHeld(10);
    const failure = ioError('EIO', 'fdatasync', `${DIR}/00000000000000000000.index`);
    // Only these fail: the append below rolls too, and the frames of the segment it seals are not held.
    io.holding = false;
    for (const sync of io.held.splice(0)) sync.fail(failure);
    appendIds(log, 10, 1);
    await expect(log.sync()).rejects.toMatchObject({ code: expect.stringMatching(/^(KEEL_IO|KEEL_POISONED)$/) });
    expect(log.stats().poisoned).toBe(true);
    expect(() => log.syncSync()).toThrow();
    await expect(log.close()).rejects.toBeDefined();
    await afterPowerCut(fs, async (reopened) => {
      expect(ids(reopened).slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, index) => index));
      await reopened.verify();
    });
  });

  it('the next flush does not wait for them either: a batch synced as soon as the roll was acknowledged is acknowledged while they are held', async () => {
    const { fs, io, log } = await logWithHeldIndexSyncs();
    io.holding = true;
    appendIds(log, 0, 10);
    expect(await log.sync()).toBe(10);
    // In the same turn as the acknowledgement, as a writer that appends in a loop does: the frames' writes start after.
    appendIds(log, 10, 1);
    const next = log.sync();
    await io.heldAtLeast(2);
    expect(await next).toBe(11);
    expect(io.held.length).toBeGreaterThanOrEqual(2);
    io.releaseAll();
    await log.close();
    await afterPowerCut(fs, async (reopened) => {
      expect(ids(reopened)).toEqual(Array.from({ length: 11 }, (_, index) => index));
      expect(rebuiltIndexes(reopened)).toBe(0);
    });
  });

  it('what the roll left (the rename, the next prepared file) waits for them: its directory syncs never land beside their datasyncs', async () => {
    const { fs, io, log } = await logWithHeldIndexSyncs();
    // Two of the three a segment holds: more than half full, so the next file is prepared.
    appendIds(log, 0, 2);
    await log.sync();
    await backgroundWorkSettled(log);
    expect(fs.files().has(`${DIR}/${PREPARED_SEGMENT_NAME}`)).toBe(true);
    io.holding = true;
    // Does not fit beside them: rolls into the prepared file.
    appendIds(log, 2, 2);
    expect(await log.sync()).toBe(4);
    await io.heldAtLeast(2);
    // Nothing queued by now renamed it.
    await maintenanceQueued(log);
    expect(fs.files().has(`${DIR}/${PREPARED_SEGMENT_NAME}`)).toBe(true);
    expect(fs.files().has(segmentPaths(DIR, 2).log)).toBe(false);
    io.releaseAll();
    await backgroundWorkSettled(log);
    expect(fs.files().has(segmentPaths(DIR, 2).log)).toBe(true);
    await log.close();
  });

  it('syncSync does not wait for a write running in the background, and leaves it to finish', async () => {
    const { fs, io, log } = await acknowledgedWithFramesHeld(10);
    const held = io.held.length;
    appendIds(log, 10, 4);
    expect(log.syncSync()).toBe(14);
    // The segments syncSync sealed got their frames on this thread; the held ones were left alone.
    expect(io.held.length).toBe(held);
    io.releaseAll();
    await log.close();
    await afterPowerCut(fs, async (reopened) => {
      expect(ids(reopened)).toEqual(Array.from({ length: 14 }, (_, index) => index));
      expect(rebuiltIndexes(reopened)).toBe(0);
    });
  });
});
