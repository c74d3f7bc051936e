import { isKeelError, parentDir, type Io } from '@keel/core';
import type { DataLoss, EntryLoss } from './crash.js';
import { FaultFs } from './fault-fs.js';
import { makePayload, payloadId } from './model.js';
import { ConformanceViolation } from './violation.js';

/** A store as the synchronous-sync crash check drives it. */
export interface SyncSyncSubject<Store> {
  open(io: Io, dir: string): Promise<Store>;
  /** Appends (or puts) the payloads in order; they are not durable yet. */
  append(store: Store, payloads: readonly Uint8Array[]): void;
  /** The store's `syncSync()`: durable on return. */
  syncSync(store: Store): void;
  /** The store's async `sync()`: durable once it resolves. */
  sync(store: Store): Promise<unknown>;
  /** Every payload the reopened store holds, in order (a key-value store: by key). */
  read(store: Store): Uint8Array[] | Promise<Uint8Array[]>;
  close(store: Store): Promise<void>;
}

const DIR = '/store';
const STEPS = 12;
const CRASHES: ReadonlyArray<{ data: DataLoss; entries: EntryLoss }> = [
  { data: { mode: 'keep-all' }, entries: 'keep-all' },
  { data: { mode: 'lose-all' }, entries: 'lose-all' },
  { data: { mode: 'byte-prefix' }, entries: 'subset' },
  { data: { mode: 'keep-all' }, entries: 'lose-all' },
];

/**
 * The plain power-cut states (torn and reordered writes, damage and refusals are the
 * generated suite's to cover). A workload that mixes `syncSync` with async `sync` (one of them started while an async
 * sync is held in flight), crashed before every disk operation it makes and
 * materialised in four ways. After each reopen: every payload acknowledged durable is
 * there, and what is there is a prefix of what was written. Returns the crash points run.
 */
export async function runSyncSyncCrashPoints<Store>(subject: SyncSyncSubject<Store>): Promise<number> {
  const total = (await runWorkload(subject, null)).fs.mutations;
  for (let crashAt = 1; crashAt <= total; crashAt++) {
    const { fs, acknowledged } = await runWorkload(subject, crashAt);
    for (const [index, plan] of CRASHES.entries()) {
      const crashed = fs.crash({ seed: crashAt * 31 + index, ...plan }).fs;
      await checkRecovered(subject, crashed, acknowledged, `crash before mutation ${crashAt}, ${plan.data.mode}/${plan.entries}`);
    }
  }
  return total;
}

async function runWorkload<Store>(subject: SyncSyncSubject<Store>, crashAt: number | null): Promise<{ fs: FaultFs; acknowledged: number }> {
  const fs = new FaultFs();
  // The store's directory exists durably before the workload, as a caller makes it.
  fs.mkdir(DIR);
  fs.syncDirSync(parentDir(DIR));
  const store = await subject.open(fs, DIR);
  if (crashAt !== null) fs.crashAtMutation(crashAt);
  let written = 0;
  let acknowledged = 0;
  try {
    for (let step = 0; step < STEPS; step++) {
      const count = (step % 3) + 1;
      subject.append(store, Array.from({ length: count }, (_, i) => makePayload(written + i, 40 + ((written + i) % 7) * 90)));
      written += count;
      if (step % 4 === 3) {
        await subject.sync(store);
      } else if (step === 5) {
        // A syncSync while an async sync is in flight: each claims only what it covered.
        fs.holdSyncs();
        const inFlight = subject.sync(store);
        // Awaited below unless the crash comes first; then the catch below ends the run.
        inFlight.catch(() => undefined);
        // Let the async flush start (group commits begin a microtask or so later).
        for (let turn = 0; turn < 100 && fs.heldSyncs === 0; turn++) await Promise.resolve();
        subject.append(store, [makePayload(written, 64)]);
        written++;
        subject.syncSync(store);
        acknowledged = written;
        fs.releaseSyncs();
        await inFlight;
      } else {
        subject.syncSync(store);
      }
      acknowledged = written;
    }
    await subject.close(store);
  } catch (error) {
    // The only failure expected is the disk freezing at the crash point.
    if (!fs.frozen) throw error;
    fs.releaseSyncs();
    await subject.close(store).catch(() => undefined);
  }
  return { fs, acknowledged };
}

async function checkRecovered<Store>(subject: SyncSyncSubject<Store>, fs: FaultFs, acknowledged: number, what: string): Promise<void> {
  const store = await reopenAfterCrash(subject, fs, DIR, what);
  const ids = (await subject.read(store)).map((payload) => payloadId(payload));
  await subject.close(store);
  for (const [index, id] of ids.entries()) {
    if (id !== index) throw new ConformanceViolation(`${what}: record ${index} is ${id}, not a prefix of what was written`);
  }
  if (ids.length < acknowledged) throw new ConformanceViolation(`${what}: ${acknowledged} payloads were acknowledged durable, ${ids.length} survived`);
}

/** Opens a crashed store; a plain power cut must open, so a refusal is a violation naming `what`. */
export async function reopenAfterCrash<Store>(subject: Pick<SyncSyncSubject<Store>, 'open'>, fs: FaultFs, dir: string, what: string): Promise<Store> {
  try {
    return await subject.open(fs, dir);
  } catch (error) {
    if (isKeelError(error)) throw new ConformanceViolation(`${what}: reopen refused (${error.code}): ${error.message}`);
    throw error;
  }
}
