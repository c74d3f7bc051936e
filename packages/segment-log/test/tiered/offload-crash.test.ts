// Crash points over the offload protocol, deterministic: the disk (FaultFs) is frozen
// before its Nth mutation, or the remote store's Nth call never happens and the disk
// freezes with it; then the process is gone (its page cache kept, or, as after a power
// cut, everything unsynced lost). Reopened over the same store, the log must still hold
// every acknowledged record from offset 0, finish the offload, and leave no segment both
// missing locally and without a finished copy, and no object the journal does not account for.
import { FaultFs, makePayload, payloadId, type CrashPlan } from '@keel/conformance';
import { describe, expect, it } from 'vitest';

import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../../src/format.js';
import { SegmentLog } from '../../src/index.js';
import { OffloadJournal } from '../../src/tiered/offload-journal.js';
import { copyObjectKinds, remoteKey } from '../../src/tiered/remote-keys.js';
import { MemoryRemoteStore } from '../support/memory-remote-store.js';

const DIR = '/store';
const PREFIX = 'log/';
const BATCHES = 6;
const BATCH_RECORDS = 6;
/**
 * The header plus three batch frames of one record each (the frame's overhead, then
 * timestamp delta, key length, value length, the 64-byte value and header count): the
 * workload appends each record in its own append() call, so three records per segment,
 * twelve segments, and each batch of six spans two.
 */
const SEGMENT_BYTES = HEADER_BYTES + 3 * (BATCH_OVERHEAD_BYTES + 1 + 1 + 1 + 64 + 1);
const PLANS: readonly Omit<CrashPlan, 'seed'>[] = [
  { data: { mode: 'keep-all' }, entries: 'keep-all' },
  { data: { mode: 'lose-all' }, entries: 'lose-all' },
  // Some prefix of what was written since the last sync: a crash between the offload
  // events grouped under one sync, or inside one of them.
  { data: { mode: 'byte-prefix' }, entries: 'keep-all' },
];

class Crashed extends Error {}

function open(io: FaultFs, remote: MemoryRemoteStore, onError?: () => void): Promise<SegmentLog> {
  return SegmentLog.open(DIR, {
    io,
    durability: { mode: 'explicit' },
    segmentBytes: SEGMENT_BYTES,
    indexIntervalBytes: 64,
    now: () => 1_700_000_000_000,
    tiered: { remote, prefix: PREFIX, localRetention: { bytes: 2 * SEGMENT_BYTES }, backoffBaseMs: 0, backoffMaxMs: 0, ...(onError ? { onError } : {}) },
  });
}

interface Run {
  fs: FaultFs;
  acknowledged: number;
}

/**
 * The workload: batches appended and synced, the offload waited for, local retention run.
 * `crash` arms the crash point; once the disk is frozen every remote call fails too, and
 * the workload stops at its next step.
 */
async function workload(remote: MemoryRemoteStore, crash: { localMutation?: number; remoteCall?: number }): Promise<Run> {
  const fs = new FaultFs();
  fs.mkdir(DIR);
  let remoteCalls = 0;
  let signal: () => void = () => {};
  const crashed = new Promise<void>((resolve) => { signal = resolve; });
  remote.before = () => {
    remoteCalls++;
    if (crash.remoteCall !== undefined && remoteCalls === crash.remoteCall && !fs.frozen) fs.crashAtMutation(1);
    if (fs.frozen || (crash.remoteCall !== undefined && remoteCalls >= crash.remoteCall)) {
      signal();
      throw new Crashed('the process is gone');
    }
  };
  const step = async <T>(work: Promise<T>): Promise<T> => {
    const result = await Promise.race([work, crashed.then(() => { throw new Crashed('the process is gone'); })]);
    if (fs.frozen) throw new Crashed('the disk froze');
    return result as T;
  };
  let acknowledged = 0;
  const log = await open(fs, remote, () => { if (fs.frozen) signal(); });
  if (crash.localMutation !== undefined) fs.crashAtMutation(crash.localMutation);
  try {
    for (let batch = 0; batch < BATCHES; batch++) {
      const first = batch * BATCH_RECORDS;
      // One frame per record, so a batch's records fall into segments as SEGMENT_BYTES says.
      for (let index = 0; index < BATCH_RECORDS; index++) log.append({ value: makePayload(first + index, 64) });
      await step(log.sync());
      acknowledged = first + BATCH_RECORDS;
      await step(log.offloaded());
      await step(log.enforceRetention());
    }
  } catch (error) {
    if (!fs.frozen && !(error instanceof Crashed)) throw error;
    signal();
  }
  remote.before = () => { if (fs.frozen) throw new Crashed('the process is gone'); };
  await log.close().catch(() => undefined);
  remote.before = () => {};
  return { fs, acknowledged };
}

/** After recovery: every acknowledged record from 0, the offload finished, nothing local missing without a copy, no stray object. */
async function checkRecovered(fs: FaultFs, remote: MemoryRemoteStore, acknowledged: number, what: string): Promise<void> {
  const log = await open(fs, remote);
  try {
    await log.offloaded();
    await log.enforceRetention();
    await log.offloaded();
    expect(log.startOffset, what).toBe(0);
    expect(log.nextOffset, what).toBeGreaterThanOrEqual(acknowledged);
    const ids: (number | null)[] = [];
    for await (const record of log.stream()) ids.push(payloadId(record.value!));
    expect(ids, what).toEqual(Array.from({ length: log.nextOffset }, (_, index) => index));
    expect(log.stats().tiered, what).toMatchObject({ queued: 0 });
  } finally {
    await log.close();
  }
  const journal = await OffloadJournal.open(`${DIR}/remote-log-metadata`, { io: fs, readOnly: true });
  try {
    expect(journal.unfinished(), what).toEqual([]);
    const expected = journal.copies().flatMap((copy) => copyObjectKinds(copy).map((kind) => PREFIX + remoteKey(copy.baseOffset, copy.copyId, kind)));
    expect([...remote.objects.keys()].sort(), what).toEqual(expected.sort());
  } finally {
    await journal.close();
  }
}

describe('offload crash points', () => {
  it('a crash before any disk mutation or remote call of offload and local retention loses nothing and strands nothing', async () => {
    // A clean run counts the disk mutations and remote calls there are to crash before.
    const clean = new MemoryRemoteStore();
    const mutations = (await workload(clean, {})).fs.mutations;
    const calls = clean.calls;
    expect(mutations).toBeGreaterThan(50);
    expect(calls).toBeGreaterThan(20);
    let states = 0;
    const points = [
      ...Array.from({ length: mutations }, (_, index) => ({ localMutation: index + 1 })),
      ...Array.from({ length: calls }, (_, index) => ({ remoteCall: index + 1 })),
    ];
    for (const point of points) {
      for (const plan of PLANS) {
        const remote = new MemoryRemoteStore();
        const run = await workload(remote, point);
        const after = plan.data.mode === 'keep-all' ? run.fs.afterProcessCrash() : run.fs.crash({ seed: 1, ...plan }).fs;
        await checkRecovered(after, remote, run.acknowledged, `${JSON.stringify(point)} ${plan.data.mode}`);
        states++;
      }
    }
    console.log(`offload crash points: ${mutations} disk mutations, ${calls} remote calls, ${states} crash states checked`);
    expect(states).toBeGreaterThan(100);
  });
});
