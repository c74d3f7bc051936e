import { mkdtempSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { nativeIo, type Io, type IoFile } from '@keel/core';
import { loadBackend, type Journal } from '../backends.js';
import { RawFsLog } from '../peers/raw-fs.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import { pairedSystems, storeVariant, type PairedVariant } from './paired-rounds.js';
import { withSingleAppendWarmup } from './single-append-warmup.js';
import { SpinningSyncThreadIo } from './spinning-sync-thread-io.js';
import { withoutSyncs } from './without-syncs.js';

const EXPLICIT = { mode: 'explicit' } as const;
const NANOSECONDS_PER_MICROSECOND = 1e3;
/** Spins of the sync thread measured beside the parked one (the longest a file may ask for is 1000 µs). */
const SPIN_SHORT_MICROSECONDS = 50;
const SPIN_LONG_MICROSECONDS = 200;

/**
 * Runs `append` `count` times one after another; returns the mean µs per call. Its
 * details carry the CPU the whole process used per call (every thread: the event loop,
 * the threadpool, a sync thread), which is what a spinning thread costs.
 */
function perAppend(name: string, count: number, append: () => Promise<unknown> | void, setup?: () => Promise<void>, teardown?: () => Promise<void>): BenchSystem {
  let cpuMicroseconds = Number.NaN;
  return {
    name,
    ...(setup === undefined ? {} : { setup }),
    ...(teardown === undefined ? {} : { teardown }),
    async run() {
      const cpuBefore = process.cpuUsage();
      const started = process.hrtime.bigint();
      for (let index = 0; index < count; index++) await append();
      const elapsed = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_MICROSECOND / count;
      const cpu = process.cpuUsage(cpuBefore);
      cpuMicroseconds = (cpu.user + cpu.system) / count;
      return elapsed;
    },
    details: () => ({ cpuMicrosecondsPerAppend: cpuMicroseconds }),
  };
}

interface JournalSetup {
  sync: 'async' | 'sync';
  io?: Io;
  syncThread?: boolean;
}

/** A journal for one-at-a-time appends, made durable only when asked. */
async function openJournal(path: string, options: JournalSetup): Promise<Journal> {
  const { Journal } = await loadBackend('journal');
  return Journal.open(path, {
    durability: EXPLICIT,
    ...(options.io === undefined ? {} : { io: options.io }),
    ...(options.syncThread === undefined ? {} : { syncThread: options.syncThread }),
  });
}

/** A journal appended to one record at a time, made durable with `syncThrough` or `syncSync`. */
function journalSystem(name: string, path: string, count: number, record: Buffer, options: JournalSetup): BenchSystem {
  let journal: Journal | undefined;
  const append =
    options.sync === 'async'
      ? () => (journal as Journal).syncThrough((journal as Journal).append(record))
      : () => {
          (journal as Journal).append(record);
          (journal as Journal).syncSync();
        };
  return perAppend(
    name,
    count,
    append,
    async () => void (journal = await openJournal(path, options)),
    async () => journal?.close(),
  );
}

/** A journal as a paired variant: one `append` made durable by `syncThrough` or `syncSync`. */
function journalVariant(name: string, path: string, record: Buffer, options: JournalSetup): PairedVariant {
  return storeVariant(name, () => openJournal(path, options), (journal) => {
    const lsn = journal.append(record);
    if (options.sync === 'async') return journal.syncThrough(lsn);
    journal.syncThroughSync(lsn);
    return undefined;
  });
}

/** tmpfs's magic number in statfs(2): there fdatasync has nothing to do and returns at once. */
const TMPFS_MAGIC = 0x01021994;
const TMPFS_DIRECTORY = '/dev/shm';

/** Whether there is a tmpfs to measure the hop on. */
function hasTmpfs(): boolean {
  try {
    return statfsSync(TMPFS_DIRECTORY).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * The hop alone: an fdatasync of a file on tmpfs, where it does nothing, on the calling
 * thread, on the libuv threadpool, and on a file's own sync thread parked or spinning.
 * Their differences are what a sync pays to leave the event loop and come back.
 */
function hopSystems(count: number): BenchSystem[] {
  const hop = (name: string, setUp: (file: IoFile) => void, sync: (file: IoFile) => Promise<void> | void): BenchSystem => {
    let directory: string | undefined;
    let file: IoFile | undefined;
    return perAppend(
      name,
      count,
      () => sync(file as IoFile),
      async () => {
        directory = mkdtempSync(join(TMPFS_DIRECTORY, 'keel-bench-hop-'));
        file = nativeIo.open(join(directory, 'hop'), { create: true });
        file.writeSync(Buffer.alloc(RECORD_BYTES_SMALL), 0);
        setUp(file);
      },
      async () => {
        file?.closeSync();
        if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
      },
    );
  };
  const onOwnThread = (spinMicroseconds: number) => (file: IoFile) => void file.useSyncThread?.({ spinMicroseconds });
  return [
    hop('hop: none (tmpfs fdatasync on the event loop)', () => undefined, (file) => file.datasyncSync()),
    hop('hop: libuv threadpool (tmpfs fdatasync)', () => undefined, (file) => file.datasync()),
    hop('hop: sync thread, parked (tmpfs fdatasync)', onOwnThread(0), (file) => file.datasync()),
    hop(`hop: sync thread, spinning ${SPIN_SHORT_MICROSECONDS} µs (tmpfs fdatasync)`, onOwnThread(SPIN_SHORT_MICROSECONDS), (file) => file.datasync()),
    hop(`hop: sync thread, spinning ${SPIN_LONG_MICROSECONDS} µs (tmpfs fdatasync)`, onOwnThread(SPIN_LONG_MICROSECONDS), (file) => file.datasync()),
  ];
}

/**
 * Where the time of one durable append goes. The same 100-byte record, one at a time,
 * each durable before the next, in µs per append: the journal's async path (its syncs on
 * its own sync thread, parked or spinning, or on the libuv threadpool) and its syncSync
 * against raw node:fs both ways; then the parts — keel's own cost with the fdatasync made
 * a no-op (async and sync: their difference is the promise machinery), the hop alone (a
 * tmpfs fdatasync, which does nothing, on each kind of thread), and one bare round trip
 * through the libuv threadpool.
 */
const appendCost: Scenario = {
  name: 'journal-append-single-cost',
  backend: 'journal',
  description:
    'µs per durable 100-byte append, one at a time: journal async via its sync thread (parked, spinning) and via the threadpool, syncSync, raw node:fs sync and async, keel with fdatasync a no-op, the hop alone per kind of thread, one bare threadpool round trip',
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  // Many short rounds rather than a few long ones: on a disk shared with other processes a
  // long round of one system can fall entirely into someone else's burst of writes.
  sizing(quick) {
    return withSingleAppendWarmup({ workPerRound: 50, rounds: quick ? 2 : 31, warmupRounds: 1 }, quick);
  },
  async systems(context, sizing) {
    const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
    const record = payload as Buffer;
    const count = sizing.workPerRound;
    const at = (name: string): string => join(context.directory, name);
    const noSyncIo = withoutSyncs(nativeIo);
    let raw: RawFsLog | undefined;
    let handle: FileHandle | undefined;
    let probe: FileHandle | undefined;
    let position = 0;
    return [
      journalSystem('keel journal: append + await syncThrough (sync thread)', at('async.log'), count, record, { sync: 'async' }),
      journalSystem('keel journal: append + await syncThrough (threadpool)', at('async-threadpool.log'), count, record, { sync: 'async', syncThread: false }),
      journalSystem(`keel journal: append + await syncThrough (sync thread spinning ${SPIN_LONG_MICROSECONDS} µs)`, at('async-spin.log'), count, record, {
        sync: 'async',
        io: new SpinningSyncThreadIo(nativeIo, SPIN_LONG_MICROSECONDS),
      }),
      journalSystem('keel journal: append + syncSync', at('sync.log'), count, record, { sync: 'sync' }),
      perAppend(
        `${SYSTEM_RAW_FS}: writeSync + fdatasyncSync`,
        count,
        () => raw?.appendDurably(record),
        async () => void (raw = new RawFsLog(context.directory, 'raw-sync.log')),
        async () => raw?.close(),
      ),
      perAppend(
        `${SYSTEM_RAW_FS}: writeSync + await datasync (threadpool)`,
        count,
        async () => {
          const opened = handle as FileHandle;
          position += writeSync(opened.fd, record, 0, record.length, position);
          await opened.datasync();
        },
        async () => void (handle = await openFile(at('raw-async.log'), 'w+')),
        async () => handle?.close(),
      ),
      journalSystem('keel journal, fdatasync a no-op: async', at('async-nosync.log'), count, record, { sync: 'async', io: noSyncIo }),
      journalSystem('keel journal, fdatasync a no-op: syncSync', at('sync-nosync.log'), count, record, { sync: 'sync', io: noSyncIo }),
      ...(hasTmpfs() ? hopSystems(count) : []),
      perAppend(
        'one threadpool round trip (FileHandle.stat)',
        count,
        async () => (probe as FileHandle).stat(),
        async () => void (probe = await openFile(at('probe'), 'w+')),
        async () => probe?.close(),
      ),
    ];
  },
};

/**
 * The same durable appends with every variant taking turns append by append, so that a
 * disk shared with other processes weighs on each alike (see `pairedSystems`): the
 * figure to compare the async paths by on a busy machine. µs per append, the median of
 * each round. A spinning sync thread is left out here (it is in the cost scenario): after
 * each of its syncs it keeps a core busy for its whole spin, which is exactly when the
 * next variant in turn runs; on two cores that took `syncSync` from 0.94× to 0.72× of
 * raw node:fs.
 */
const appendPaired: Scenario = {
  name: 'journal-append-single-paired',
  backend: 'journal',
  description: 'µs per durable 100-byte append, the variants taking turns append by append: journal async via its sync thread and via the threadpool, syncSync, raw node:fs sync and async',
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  // The async path's pace against node:fs, as journal-append-single holds it in rounds.
  targets: [{ kind: 'ratio-at-least', system: `${SYSTEM_RAW_FS}: writeSync + fdatasyncSync`, factor: 0.8 }],
  sizing(quick) {
    return withSingleAppendWarmup({ workPerRound: quick ? 50 : 300, rounds: quick ? 2 : 5, warmupRounds: 1 }, quick);
  },
  async systems(context, sizing) {
    const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
    const record = payload as Buffer;
    const at = (name: string): string => join(context.directory, name);
    let raw: RawFsLog | undefined;
    let handle: FileHandle | undefined;
    let position = 0;
    return pairedSystems(
      [
        journalVariant('keel journal: append + await syncThrough (sync thread)', at('async.log'), record, { sync: 'async' }),
        journalVariant('keel journal: append + await syncThrough (threadpool)', at('async-threadpool.log'), record, { sync: 'async', syncThread: false }),
        journalVariant('keel journal: append + syncSync', at('sync.log'), record, { sync: 'sync' }),
        {
          name: `${SYSTEM_RAW_FS}: writeSync + fdatasyncSync`,
          setup: async () => void (raw = new RawFsLog(context.directory, 'raw-sync.log')),
          once: () => raw?.appendDurably(record),
          teardown: async () => raw?.close(),
        },
        {
          name: `${SYSTEM_RAW_FS}: writeSync + await datasync (threadpool)`,
          setup: async () => void (handle = await openFile(at('raw-async.log'), 'w+')),
          once: async () => {
            const opened = handle as FileHandle;
            position += writeSync(opened.fd, record, 0, record.length, position);
            await opened.datasync();
          },
          teardown: async () => handle?.close(),
        },
      ],
      sizing.workPerRound,
    );
  },
};

export const JOURNAL_APPEND_COST_SCENARIOS: Scenario[] = [appendCost, appendPaired];
