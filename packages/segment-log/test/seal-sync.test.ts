// The append that rolls starts the sealed segment's fdatasync itself, so that the flush
// acknowledging the batch waits less for it. The order a roll's durability rests on stays:
// the sealed-offset checkpoint is written only once that sync returned, the flush resolves
// only after the checkpoint's own datasync, and a failed early sync fails the flush.
import { FaultFs } from '@keel/conformance';
import { InterceptedIo, KeelError, isKeelError, parentDir, type IoMutation } from '@keel/core';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, HEADER_FLAG_SEALED_DURABLE, SEALED_CHECKPOINT_FILE_NAME, segmentPaths } from '../src/format.js';
import { record, threeSyncedThenPrepared } from './support/id-records.js';
import { idFrameBytes } from './support/id-frames.js';

const DIR = '/store';
/**
 * Segment 0 holds the frame of the three synced records and a frame of one more: an
 * append of one record fills it, unsynced, and the append after it rolls. (A batch that
 * does not fit the rest of a segment rolls before it writes anything, so it is the
 * earlier append that leaves the sealed segment bytes to sync.)
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3) + idFrameBytes(1);
const SEGMENT_0 = segmentPaths(DIR, 0).log;
const CHECKPOINT = `${DIR}/${SEALED_CHECKPOINT_FILE_NAME}`;

/** Logs every datasync and checkpoint write in order; from `hold()` on, segment 0's datasyncs wait for `release` (or `fail`). */
class HeldSealSync extends InterceptedIo {
  readonly events: string[] = [];
  #held = false;
  #gate: { resolve: () => void; reject: (error: unknown) => void } | null = null;

  hold(): void {
    this.#held = true;
  }

  get waiting(): boolean {
    return this.#gate !== null;
  }

  release(): void {
    this.#gate?.resolve();
  }

  fail(error: unknown): void {
    this.#gate?.reject(error);
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (operation === 'write' && path === CHECKPOINT) this.events.push('checkpoint write');
    return run();
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation !== 'datasync') return run();
    const name = path === SEGMENT_0 ? 'sealed' : path === CHECKPOINT ? 'checkpoint' : 'other';
    this.events.push(`${name} datasync`);
    if (this.#held && path === SEGMENT_0) {
      await new Promise<void>((resolve, reject) => {
        this.#gate = { resolve, reject };
      });
      this.#gate = null;
    }
    const result = await run();
    this.events.push(`${name} datasync done`);
    return result;
  }
}

/** Until `done()` holds (each turn lets the flush take its next step); fails rather than spin for ever. */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !done(); turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

/** A log on a fresh disk, its syncs logged, with three records synced and the prepared file made. */
async function threeSyncedOnFreshDisk(): Promise<{ fs: FaultFs; log: SegmentLog; io: HeldSealSync }> {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  fs.syncDirSync(parentDir(DIR));
  const io = new HeldSealSync(fs);
  const log = await SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, now: () => 1_700_000_000_000 });
  await threeSyncedThenPrepared(log, () => fs.files(), DIR);
  return { fs, log, io };
}

/** Three records synced and the prepared file made; then segment 0's syncs are held, a record fills it and the next append rolls. */
async function rolledWithSealSyncHeld(): Promise<{ log: SegmentLog; io: HeldSealSync }> {
  const { log, io } = await threeSyncedOnFreshDisk();
  io.hold();
  io.events.length = 0;
  log.appendBatch([record(3)]);
  expect(log.segments().length).toBe(1);
  log.appendBatch([record(4)]);
  expect(log.segments().length).toBe(2);
  // Started inside the append, before the flush the roll asked for ran.
  expect(io.events).toEqual(['sealed datasync']);
  return { log, io };
}

it('the append that rolls starts the sealed segment datasync, and the flush writes the checkpoint only after it returned', async () => {
  const { log, io } = await rolledWithSealSyncHeld();
  let acknowledged: number | null = null;
  const synced = log.sync().then((durable) => (acknowledged = durable));
  // The flush syncs the new segment, but neither writes the checkpoint nor resolves while the sealed sync is held.
  await turnsUntil(() => io.events.includes('other datasync done'));
  expect(io.events).not.toContain('checkpoint write');
  expect(acknowledged).toBe(null);
  expect(log.durableOffset).toBe(3);
  io.release();
  expect(await synced).toBe(5);
  // One datasync of the sealed log in all (the flush waited for the roll's), then the checkpoint, written and synced.
  expect(io.events.filter((event) => event === 'sealed datasync')).toHaveLength(1);
  const sealedDone = io.events.indexOf('sealed datasync done');
  expect(sealedDone).toBeGreaterThanOrEqual(0);
  expect(io.events.indexOf('checkpoint write')).toBeGreaterThan(sealedDone);
  expect(io.events.indexOf('checkpoint datasync done')).toBeGreaterThan(io.events.indexOf('checkpoint write'));
  await log.close();
});

it('a failed sealed segment datasync started by the roll fails the flush that waits for it, and poisons the log', async () => {
  const { log, io } = await rolledWithSealSyncHeld();
  const synced = log.sync();
  await turnsUntil(() => io.waiting && io.events.includes('other datasync done'));
  io.fail(new KeelError('KEEL_IO', 'injected EIO'));
  await expect(synced).rejects.toSatisfy((error) => isKeelError(error));
  expect(io.events).not.toContain('checkpoint write');
  expect(log.durableOffset).toBe(3);
  await expect(log.sync()).rejects.toSatisfy((error) => isKeelError(error, 'KEEL_POISONED'));
  await expect(log.close()).rejects.toSatisfy((error) => isKeelError(error, 'KEEL_POISONED'));
});

it('a roll after a synced batch starts no sealed datasync and writes no checkpoint: the new segment’s header says the segment before it was durable', async () => {
  const { fs, log, io } = await threeSyncedOnFreshDisk();
  log.appendBatch([record(3)]);
  expect(await log.sync()).toBe(4);
  io.events.length = 0;
  log.appendBatch([record(4)]);
  expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4]);
  expect(await log.sync()).toBe(5);
  expect(io.events).not.toContain('sealed datasync');
  expect(io.events).not.toContain('checkpoint write');
  await log.close();
  // The header's flags (payload bytes 2–3, after the frame's magic and length) carry HEADER_FLAG_SEALED_DURABLE.
  const header = fs.files().get(segmentPaths(DIR, 4).log) as Uint8Array;
  expect(new DataView(header.buffer, header.byteOffset).getUint16(10, true)).toBe(HEADER_FLAG_SEALED_DURABLE);
});
