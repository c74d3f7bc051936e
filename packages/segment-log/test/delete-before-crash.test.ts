import { InterceptedIo, ioError, type IoMutation } from '@keel/core';
import { FaultFs, makePayload, payloadId, type CrashPlan } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../src/format.js';

const DIR = '/store';
const RECORDS = 40;
const durability = { mode: 'explicit' } as const;
/**
 * The header plus four batch frames of one record each (the frame's overhead, then
 * timestamp delta, key length, value length, the 64-byte value and header count): records
 * appended one per append() call (appendRecords) fill each segment with four, each frame
 * indexed (indexIntervalBytes 64).
 */
const SEGMENT_BYTES = HEADER_BYTES + 4 * (BATCH_OVERHEAD_BYTES + 1 + 1 + 1 + 64 + 1);
const FIRST_START = 8;
const SECOND_BEFORE = 29;
const SECOND_START = 28;
/** Writing the checkpoint: unlink the temporary, create, write, datasync, rename, syncDir. */
const CHECKPOINT_MUTATIONS = 6;

type Plan = Omit<CrashPlan, 'seed'>;

/** Fails every directory sync with EIO once `failing` is set. */
class FailingDirectorySync extends InterceptedIo {
  failing = false;

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (this.failing && operation === 'sync-dir') return Promise.reject(ioError('EIO', 'fsync', path));
    return run();
  }
}
const PLANS: readonly Plan[] = [
  { data: { mode: 'keep-all' }, entries: 'keep-all' },
  { data: { mode: 'lose-all' }, entries: 'lose-all' },
  { data: { mode: 'keep-all' }, entries: 'lose-all' },
  { data: { mode: 'lose-all' }, entries: 'keep-all' },
  { data: { mode: 'subset' }, entries: 'subset' },
  { data: { mode: 'byte-prefix' }, entries: 'subset' },
];
/** Each subset plan runs with this many seeds: different subsets of the unlinks and the rename survive. */
const SUBSET_SEEDS = 6;

/** Appends the RECORDS records, each in its own append() call and so its own batch frame. */
function appendRecords(log: SegmentLog): void {
  for (let index = 0; index < RECORDS; index++) log.append({ value: makePayload(index, 64) });
}

function open(io: FaultFs): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

/**
 * A durable log of RECORDS records that has already moved its start once (so the second
 * deleteBefore replaces a checkpoint), then deleteBefore(SECOND_BEFORE) with the disk
 * frozen before its `crashAt`-th mutation (null: run to the end).
 */
async function deleteWithCrash(crashAt: number | null): Promise<FaultFs> {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  const log = await open(fs);
  appendRecords(log);
  log.syncSync();
  expect(await log.deleteBefore(FIRST_START)).toBe(2);
  if (crashAt !== null) fs.crashAtMutation(crashAt);
  try {
    expect(await log.deleteBefore(SECOND_BEFORE)).toBe(5);
    await log.close();
  } catch (error) {
    if (!fs.frozen) throw error;
    await log.close().catch(() => undefined);
  }
  return fs;
}

/** The reopened log starts at the old or the new start, holds every record from there on, and accepts durable writes. */
async function checkReopened(fs: FaultFs, what: string): Promise<void> {
  const log = await open(fs).catch((error: unknown) => {
    throw new Error(`${what}: reopen refused: ${String(error)}`);
  });
  try {
    expect([FIRST_START, SECOND_START], what).toContain(log.startOffset);
    expect(log.nextOffset, what).toBe(RECORDS);
    const ids = log.read(log.startOffset, { maxBytes: 1 << 20 }).map((record) => payloadId(record.value));
    expect(ids, what).toEqual(Array.from({ length: RECORDS - log.startOffset }, (_, index) => log.startOffset + index));
    expect(log.segments()[0]?.baseOffset, what).toBe(log.startOffset);
    const below = [...fs.files().keys()].filter((path) => /\/\d{20}\./.test(path) && Number(/(\d{20})\./.exec(path)?.[1]) < log.startOffset);
    expect(below, what).toEqual([]);
    await log.verify();
    log.append({ value: makePayload(RECORDS, 64) });
    expect(log.syncSync(), what).toBe(RECORDS + 1);
  } finally {
    await log.close();
  }
}

/**
 * Opens a copy of `start` (pending writes and entries included) crashed before each of
 * the disk operations that open makes, and checks the log each crash state reopens as.
 * Returns how many operations open made.
 */
async function crashEveryStepOfOpen(start: FaultFs, what: string, data: 'keep-all' | 'lose-all'): Promise<number> {
  const counted = start.clone();
  const before = counted.mutations;
  await (await open(counted)).close();
  const mutations = counted.mutations - before;
  for (let crashAt = 1; crashAt <= mutations; crashAt++) {
    const fs = start.clone();
    fs.crashAtMutation(crashAt);
    await open(fs).then((log) => log.close()).catch((error: unknown) => {
      if (!fs.frozen) throw error;
    });
    for (const entries of ['lose-all', 'keep-all', 'subset'] as const) {
      for (let seed = 0; seed < (entries === 'subset' ? SUBSET_SEEDS : 1); seed++) {
        await checkReopened(fs.crash({ seed, data: { mode: data }, entries }).fs, `${what} crashed before mutation ${crashAt}, entries ${entries} seed ${seed}`);
      }
    }
  }
  return mutations;
}

describe('deleteBefore and the log-start checkpoint', () => {
  it('writes the checkpoint before any unlink and syncs the directory twice, not once per segment', async () => {
    const fs = new FaultFs();
    fs.mkdir(DIR);
    const log = await open(fs);
    appendRecords(log);
    log.syncSync();
    // The next prepared file is made by background work after the sync; a retention pass (no limits) runs after it.
    expect(await log.enforceRetention()).toBe(0);
    const before = fs.mutations;
    expect(await log.deleteBefore(SECOND_BEFORE)).toBe(7);
    // The checkpoint (unlink, create, write, datasync, rename, syncDir); 21 unlinks; syncDir.
    expect(fs.mutations - before).toBe(CHECKPOINT_MUTATIONS + 21 + 1);
    expect(log.startOffset).toBe(SECOND_START);
    await log.close();
    await checkReopened(fs, 'after a clean deleteBefore');
  });

  it('a crash before every disk operation of deleteBefore loses nothing at or above the new start and leaves no hole', async () => {
    const total = (await deleteWithCrash(null)).mutations;
    let states = 0;
    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const fs = await deleteWithCrash(crashAt);
      for (const [index, plan] of PLANS.entries()) {
        const seeds = plan.entries === 'subset' ? SUBSET_SEEDS : 1;
        for (let seed = 0; seed < seeds; seed++) {
          const crashed = fs.crash({ seed: crashAt * 1000 + index * 100 + seed, ...plan }).fs;
          await checkReopened(crashed, `crash before mutation ${crashAt} of ${total}, ${plan.data.mode}/${plan.entries} seed ${seed}`);
          states++;
        }
      }
    }
    expect(states).toBeGreaterThan(100);
  });

  it('a crash at every step of the recovery that removes the segments below the checkpoint is recovered again', async () => {
    // Frozen after the checkpoint's six operations, before the first unlink: recovery removes
    // the 15 files of the five segments below the new start.
    const leftover = (await deleteWithCrash(CHECKPOINT_MUTATIONS + 1)).crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs;
    const recoveryMutations = await crashEveryStepOfOpen(leftover, 'recovery', 'lose-all');
    expect(recoveryMutations).toBeGreaterThan(15);
  });

  it('open makes a checkpoint it finds durable before it removes anything below it (a restart after a process crash)', async () => {
    // The checkpoint's directory sync fails: its rename is in the page cache only, and that
    // is what a process restarted without a power cut sees.
    const fs = new FaultFs();
    fs.mkdir(DIR);
    const io = new FailingDirectorySync(fs);
    const log = await SegmentLog.open(DIR, { io, durability, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
    appendRecords(log);
    log.syncSync();
    expect(await log.deleteBefore(FIRST_START)).toBe(2);
    io.failing = true;
    await expect(log.deleteBefore(SECOND_BEFORE)).rejects.toMatchObject({ code: 'KEEL_IO' });
    await log.close().catch(() => undefined);
    const restartMutations = await crashEveryStepOfOpen(fs, 'restart', 'keep-all');
    expect(restartMutations).toBeGreaterThan(15);
  });
});
