import { parentDir } from '@keel/core';
import type { DataLoss, EntryLoss } from './crash.js';
import { FaultFs } from './fault-fs.js';
import { reopenAfterCrash, type SyncSyncSubject } from './sync-sync-crash.js';
import { makePayload, payloadId } from './model.js';
import { ConformanceViolation } from './violation.js';

/**
 * A store as the roll crash check drives it: `runSyncSyncCrashPoints`'s subject without
 * `syncSync`, opened with segments that hold four ROLL_CRASH_PAYLOAD_BYTES payloads.
 */
export interface RollCrashSubject<Store> extends Omit<SyncSyncSubject<Store>, 'syncSync'> {
  /** Seals the active segment now (`roll()`, `seal()`). */
  roll(store: Store): void;
  /** Anything more to check on a reopened store (a full verify, say). */
  check?(store: Store): Promise<unknown>;
}

/** Payload bytes of the workload (the id and filler): a subject sizes its segments for four. */
export const ROLL_CRASH_PAYLOAD_BYTES = 32;

const DIR = '/store';
/** Appends of the workload, in order; `roll` asks for a roll; a sync follows the marked ones. */
const WORKLOAD: ReadonlyArray<{ payloads: number; roll?: boolean; sync: boolean }> = [
  { payloads: 10, sync: true },
  // Three rolls by size, one asked for, and more payloads: nothing of it synced.
  { payloads: 13, roll: true, sync: false },
  { payloads: 5, sync: true },
  { payloads: 3, sync: false },
];
/** Payloads the workload writes in all. */
const WORKLOAD_PAYLOADS = WORKLOAD.reduce((sum, step) => sum + step.payloads, 0);
const CRASHES: ReadonlyArray<{ data: DataLoss; entries: EntryLoss }> = [
  { data: { mode: 'keep-all' }, entries: 'keep-all' },
  { data: { mode: 'lose-all' }, entries: 'lose-all' },
  { data: { mode: 'keep-all' }, entries: 'lose-all' },
  { data: { mode: 'lose-all' }, entries: 'keep-all' },
  { data: { mode: 'byte-prefix' }, entries: 'subset' },
  { data: { mode: 'lose-all' }, entries: 'subset' },
];
/** Each subset plan runs with this many seeds: different subsets of the creations and renames survive. */
const SUBSET_SEEDS = 6;

export interface RollCrashSummary {
  /** Crash states reopened after a crash in the workload. */
  workloadStates: number;
  /** Disk operations of the recovery that cuts a log of unsynced rolls, each crashed. */
  recoveryMutations: number;
}

/**
 * The plain power-cut states of rolls that sync nothing on the calling thread. A workload
 * that rolls several segments between syncs (by size and on request) is crashed before
 * every disk operation it makes, its own and those of the flushes its rolls ask for, and
 * materialised with unsynced data and directory entries kept, lost, or any subset kept.
 * Then the recovery of a power cut that lost every unsynced byte of such rolls (sealed
 * segments that end early, segments after them) is crashed at every step. After each
 * reopen: every payload acknowledged durable is there, what is there is a prefix of what
 * was written, and the store takes writes that are themselves durable.
 */
export async function runRollCrashPoints<Store>(subject: RollCrashSubject<Store>): Promise<RollCrashSummary> {
  const total = (await runWorkload(subject, null)).fs.mutations;
  let workloadStates = 0;
  for (let crashAt = 1; crashAt <= total; crashAt++) {
    const { fs, acknowledged } = await runWorkload(subject, crashAt);
    workloadStates += await checkEveryCrash(subject, fs, acknowledged, `crash before mutation ${crashAt} of ${total}`);
  }
  return { workloadStates, recoveryMutations: await crashEveryStepOfRecovery(subject) };
}

async function runWorkload<Store>(subject: RollCrashSubject<Store>, crashAt: number | null): Promise<{ fs: FaultFs; acknowledged: number }> {
  const fs = new FaultFs();
  // The store's directory exists durably before the workload, as a caller makes it.
  fs.mkdir(DIR);
  fs.syncDirSync(parentDir(DIR));
  if (crashAt !== null) fs.crashAtMutation(crashAt);
  let written = 0;
  let acknowledged = 0;
  let store: Store | null = null;
  try {
    store = await subject.open(fs, DIR);
    for (const step of WORKLOAD) {
      written = appendPayloads(subject, store, written, step.payloads);
      if (step.roll) subject.roll(store);
      if (step.sync) {
        const covered = written;
        await subject.sync(store);
        acknowledged = covered;
      }
    }
    await subject.close(store);
    acknowledged = written;
  } catch (error) {
    // The only failure expected is the disk freezing at the crash point.
    if (!fs.frozen) throw error;
    if (store !== null) await subject.close(store).catch(() => undefined);
  }
  return { fs, acknowledged };
}

function appendPayloads<Store>(subject: RollCrashSubject<Store>, store: Store, from: number, count: number): number {
  subject.append(store, Array.from({ length: count }, (_, index) => makePayload(from + index, ROLL_CRASH_PAYLOAD_BYTES)));
  return from + count;
}

/** Materialises every planned crash of `fs` and checks each reopened store; returns how many. */
async function checkEveryCrash<Store>(subject: RollCrashSubject<Store>, fs: FaultFs, acknowledged: number, what: string): Promise<number> {
  let states = 0;
  for (const [index, plan] of CRASHES.entries()) {
    const seeds = plan.entries === 'subset' ? SUBSET_SEEDS : 1;
    for (let seed = 0; seed < seeds; seed++) {
      const crashed = fs.crash({ seed: index * 100 + seed, ...plan }).fs;
      await checkRecovered(subject, crashed, acknowledged, `${what}, ${plan.data.mode}/${plan.entries} seed ${seed}`);
      states++;
    }
  }
  return states;
}

/**
 * A power cut that loses every unsynced byte of rolls whose flush never ran, then that
 * state reopened with the disk frozen before each operation of the recovery, and crashed
 * there in every planned way. Returns how many operations the recovery makes.
 */
async function crashEveryStepOfRecovery<Store>(subject: RollCrashSubject<Store>): Promise<number> {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  fs.syncDirSync(parentDir(DIR));
  const store = await subject.open(fs, DIR);
  const acknowledged = appendPayloads(subject, store, 0, 10);
  await subject.sync(store);
  const written = appendPayloads(subject, store, acknowledged, 13);
  subject.roll(store);
  appendPayloads(subject, store, written, 5);
  const start = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'keep-all' }).fs;
  await subject.close(store);
  const counted = start.clone();
  const before = counted.mutations;
  await subject.close(await subject.open(counted, DIR));
  const mutations = counted.mutations - before;
  for (let crashAt = 1; crashAt <= mutations; crashAt++) {
    const frozen = start.clone();
    frozen.crashAtMutation(crashAt);
    await subject.open(frozen, DIR).then((reopened) => subject.close(reopened)).catch((error: unknown) => {
      if (!frozen.frozen) throw error;
    });
    await checkEveryCrash(subject, frozen, acknowledged, `recovery crashed before mutation ${crashAt} of ${mutations}`);
  }
  return mutations;
}

async function checkRecovered<Store>(subject: RollCrashSubject<Store>, fs: FaultFs, acknowledged: number, what: string): Promise<void> {
  const store = await reopenAfterCrash(subject, fs, DIR, what);
  let survived: number;
  try {
    const ids = (await subject.read(store)).map((payload) => payloadId(payload));
    survived = ids.length;
    for (const [index, id] of ids.entries()) {
      if (id !== index) throw new ConformanceViolation(`${what}: record ${index} is ${id}, not a prefix of what was written`);
    }
    if (ids.length < acknowledged) throw new ConformanceViolation(`${what}: ${acknowledged} payloads were acknowledged durable, ${ids.length} survived`);
    if (ids.length > WORKLOAD_PAYLOADS) throw new ConformanceViolation(`${what}: ${ids.length} payloads survived, more than the ${WORKLOAD_PAYLOADS} written`);
    await subject.check?.(store);
    // New writes after the recovery are themselves durable.
    appendPayloads(subject, store, ids.length, 5);
    await subject.sync(store);
  } finally {
    await subject.close(store);
  }
  const again = await subject.open(fs.crash({ seed: 0, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs, DIR);
  const count = (await subject.read(again)).length;
  await subject.close(again);
  if (count < survived + 5) throw new ConformanceViolation(`${what}: writes synced after the recovery did not survive a power cut (${count} of ${survived + 5} payloads)`);
}
