import { FaultFs, makePayload, payloadId, type CrashPlan } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';

const DIR = '/store';
const durability = { mode: 'explicit' } as const;
/** Header (24) plus four records of 12 + 26 + 32 bytes: four records per segment. */
const SEGMENT_BYTES = 24 + 4 * (12 + 26 + 32);
const VALUE_BYTES = 32;

type Plan = Omit<CrashPlan, 'seed'>;

const PLANS: readonly Plan[] = [
  { data: { mode: 'keep-all' }, entries: 'keep-all' },
  { data: { mode: 'lose-all' }, entries: 'lose-all' },
  { data: { mode: 'keep-all' }, entries: 'lose-all' },
  { data: { mode: 'lose-all' }, entries: 'keep-all' },
  { data: { mode: 'byte-prefix' }, entries: 'subset' },
  { data: { mode: 'lose-all' }, entries: 'subset' },
];
/** Each subset plan runs with this many seeds: different subsets of the creations and renames survive. */
const SUBSET_SEEDS = 6;

function open(io: FaultFs): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

function records(from: number, count: number): { value: Uint8Array }[] {
  return Array.from({ length: count }, (_, index) => ({ value: makePayload(from + index, VALUE_BYTES) }));
}

/**
 * A log that rolls several segments between syncs, with the disk frozen before its
 * `crashAt`-th mutation (null: run to the end). Returns the disk and the offset every
 * record below which a sync acknowledged.
 */
async function rollWithCrash(crashAt: number | null): Promise<{ fs: FaultFs; acknowledged: number; written: number }> {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  let acknowledged = 0;
  let written = 0;
  if (crashAt !== null) fs.crashAtMutation(crashAt);
  try {
    const log = await open(fs);
    // Three segments, synced; then three rolls by size and one asked for, unsynced; a sync; more, unsynced.
    for (const count of [10, 13, 0, 5, 3]) {
      if (count === 0) log.roll();
      else written = log.appendBatch(records(written, count)) + count;
      if (count !== 13 && count !== 3) acknowledged = await log.sync();
    }
    await log.close();
    acknowledged = written;
  } catch (error) {
    if (!fs.frozen) throw error;
  }
  return { fs, acknowledged, written };
}

/** The reopened log holds a prefix of what was written, at least what was acknowledged, and takes durable writes. */
async function checkReopened(fs: FaultFs, acknowledged: number, written: number, what: string): Promise<void> {
  const log = await open(fs).catch((error: unknown) => {
    throw new Error(`${what}: reopen refused: ${String(error)}`);
  });
  try {
    expect(log.startOffset, what).toBe(0);
    expect(log.nextOffset, what).toBeGreaterThanOrEqual(acknowledged);
    expect(log.nextOffset, what).toBeLessThanOrEqual(written);
    const ids = log.read(0, { maxBytes: 1 << 20 }).map((record) => payloadId(record.value));
    expect(ids, what).toEqual(Array.from({ length: log.nextOffset }, (_, index) => index));
    await log.verify();
    const next = log.nextOffset;
    log.appendBatch(records(next, 5));
    expect(log.syncSync(), what).toBe(next + 5);
  } finally {
    await log.close();
  }
}

describe('a roll that syncs nothing on the event loop, crashed', () => {
  it('a crash before every disk operation of rolls and the flushes that make them durable loses nothing acknowledged and leaves no hole', async () => {
    const { fs: whole, written } = await rollWithCrash(null);
    const total = whole.mutations;
    let states = 0;
    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const { fs, acknowledged } = await rollWithCrash(crashAt);
      for (const [index, plan] of PLANS.entries()) {
        const seeds = plan.entries === 'subset' ? SUBSET_SEEDS : 1;
        for (let seed = 0; seed < seeds; seed++) {
          const crashed = fs.crash({ seed: crashAt * 1000 + index * 100 + seed, ...plan }).fs;
          await checkReopened(crashed, acknowledged, written, `crash before mutation ${crashAt} of ${total}, ${plan.data.mode}/${plan.entries} seed ${seed}`);
          states++;
        }
      }
    }
    expect(states).toBeGreaterThan(500);
  });

  it('a crash at every step of the recovery that cuts the log where it really ends and sets later segments aside is recovered again', async () => {
    // Rolls whose flush never ran, then a power cut that loses every unsynced byte: sealed
    // segments that end early, and segments after them to set aside.
    const fs = new FaultFs();
    fs.mkdir(DIR);
    const log = await open(fs);
    log.appendBatch(records(0, 10));
    const acknowledged = await log.sync();
    log.appendBatch(records(10, 13));
    log.roll();
    log.appendBatch(records(23, 5));
    const written = 28;
    const start = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'keep-all' }).fs;
    await log.close().catch(() => undefined);
    const counted = start.clone();
    const before = counted.mutations;
    const reopened = await open(counted);
    expect(reopened.recovery.actions.some((action) => action.kind === 'removed-file')).toBe(true);
    await reopened.close();
    const mutations = counted.mutations - before;
    for (let crashAt = 1; crashAt <= mutations; crashAt++) {
      const fs = start.clone();
      fs.crashAtMutation(crashAt);
      await open(fs).then((log) => log.close()).catch((error: unknown) => {
        if (!fs.frozen) throw error;
      });
      for (const plan of PLANS) {
        const seeds = plan.entries === 'subset' ? SUBSET_SEEDS : 1;
        for (let seed = 0; seed < seeds; seed++) {
          await checkReopened(fs.crash({ seed, ...plan }).fs, acknowledged, written, `recovery crashed before mutation ${crashAt}, ${plan.data.mode}/${plan.entries} seed ${seed}`);
        }
      }
    }
    expect(mutations).toBeGreaterThan(8);
  });
});
