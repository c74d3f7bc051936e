import { FaultFs, makePayload, payloadId, type CrashPlan } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';

const DIR = '/store';
const RECORDS = 40;
const durability = { mode: 'explicit' } as const;
/** Header (24) plus four records of 12 + 26 + 64 bytes: four records per segment. */
const SEGMENT_BYTES = 24 + 4 * (12 + 26 + 64);
const FIRST_START = 8;
const SECOND_BEFORE = 29;
const SECOND_START = 28;
/** Writing the checkpoint: unlink the temporary, create, write, datasync, rename, syncDir. */
const CHECKPOINT_MUTATIONS = 6;

type Plan = Omit<CrashPlan, 'seed'>;
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
  log.appendBatch(Array.from({ length: RECORDS }, (_, index) => ({ value: makePayload(index, 64) })));
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

describe('deleteBefore and the log-start checkpoint', () => {
  it('writes the checkpoint before any unlink and syncs the directory twice, not once per segment', async () => {
    const fs = new FaultFs();
    fs.mkdir(DIR);
    const log = await open(fs);
    log.appendBatch(Array.from({ length: RECORDS }, (_, index) => ({ value: makePayload(index, 64) })));
    log.syncSync();
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
    const recoveryMutations = await (async () => {
      const fs = leftover.clone();
      const before = fs.mutations;
      await (await open(fs)).close();
      return fs.mutations - before;
    })();
    for (let crashAt = 1; crashAt <= recoveryMutations; crashAt++) {
      const fs = leftover.clone();
      fs.crashAtMutation(crashAt);
      await open(fs).then((log) => log.close()).catch((error: unknown) => {
        if (!fs.frozen) throw error;
      });
      for (const entries of ['lose-all', 'keep-all', 'subset'] as const) {
        await checkReopened(fs.crash({ seed: crashAt, data: { mode: 'lose-all' }, entries }).fs, `recovery crashed before mutation ${crashAt}, entries ${entries}`);
      }
    }
    expect(recoveryMutations).toBeGreaterThan(15);
  });
});
