import { rmSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Key, RootDatabase } from 'lmdb';
import { loadBackend, type Journal } from '../backends.js';
import { openLmdb } from '../peers/lmdb.js';
import { RawFsLog } from '../peers/raw-fs.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import { quantile } from '../statistics.js';
import type { BenchSystem, Scenario } from '../types.js';
import { runWriters, SYSTEM_LMDB, SYSTEM_RAW_FS } from './peer-systems.js';
import { withSingleAppendWarmup } from './single-append-warmup.js';

const EXPLICIT = { mode: 'explicit' } as const;
const NANOSECONDS_PER_MICROSECOND = 1e3;
const NANOSECONDS_PER_MILLISECOND = 1e6;
/** The event-loop delay histogram's sampling interval, ms (its finest). */
const LOOP_DELAY_RESOLUTION_MS = 1;

/** One durable write, from its start until it is durable; the latency system times each. */
type DurableWrite = (writer: number, record: number) => Promise<unknown>;

interface LatencyTarget {
  readonly name: string;
  open(): Promise<DurableWrite>;
  close(): Promise<void>;
}

/**
 * Runs `writers` concurrent writers, timing every write from its call until it resolves
 * durable, with the event-loop delay recorded over the round. Reports p99 in µs as the
 * round's value; p50, p99.9, max and the loop delay go to the details.
 */
function latencySystem(target: LatencyTarget, writers: number, recordsPerWriter: number): BenchSystem {
  let write: DurableWrite | undefined;
  let details: Record<string, number> = {};
  return {
    name: target.name,
    setup: async () => void (write = await target.open()),
    async run() {
      const latencies = new Float64Array(writers * recordsPerWriter);
      let count = 0;
      const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loop.enable();
      await runWriters(writers, recordsPerWriter, async (writer, record) => {
        const started = process.hrtime.bigint();
        await (write as DurableWrite)(writer, record);
        latencies[count++] = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_MICROSECOND;
      });
      loop.disable();
      const sorted = Array.from(latencies.subarray(0, count)).sort((a, b) => a - b);
      details = {
        'p50 µs': quantile(sorted, 0.5),
        'p99.9 µs': quantile(sorted, 0.999),
        'max µs': sorted[sorted.length - 1] ?? Number.NaN,
        'loop delay p99 ms': loop.percentile(99) / NANOSECONDS_PER_MILLISECOND,
        'loop delay max ms': loop.max / NANOSECONDS_PER_MILLISECOND,
      };
      return quantile(sorted, 0.99);
    },
    teardown: () => target.close(),
    details: () => details,
  };
}

/** With `direct`, the journal asks for O_DIRECT (writes off the event loop; on a file system that refuses it, the journal falls back to buffered writes). */
function keelJournalTarget(path: string, payload: Buffer, direct: boolean): LatencyTarget {
  let journal: Journal | undefined;
  return {
    name: direct ? 'keel journal (Direct-IO)' : 'keel journal',
    async open() {
      const { Journal } = await loadBackend('journal');
      const opened = await Journal.open(path, { durability: EXPLICIT, direct });
      journal = opened;
      return () => opened.syncThrough(opened.append(payload));
    },
    close: async () => journal?.close(),
  };
}

/** Raw node:fs the async way: each write takes its place, writes, then awaits its own fdatasync (no group commit). */
function rawFsTarget(path: string, payload: Buffer): LatencyTarget {
  let file: FileHandle | undefined;
  return {
    name: `${SYSTEM_RAW_FS} (async fdatasync)`,
    async open() {
      const opened = await openFile(path, 'w+');
      file = opened;
      let position = 0;
      return async () => {
        const at = position;
        position += payload.length;
        await opened.write(payload, 0, payload.length, at);
        await opened.datasync();
      };
    },
    close: async () => file?.close(),
  };
}

interface GroupWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Raw node:fs with the group commit an application would write by hand: records queue up
 * while a flush runs; each flush takes the whole queue, writes it with one async
 * `write` and covers it with one async `datasync`, then resolves its writers.
 */
function rawFsGroupTarget(path: string, payload: Buffer): LatencyTarget {
  let file: FileHandle | undefined;
  return {
    name: `${SYSTEM_RAW_FS} (async write + fdatasync per group)`,
    async open() {
      const opened = await openFile(path, 'w+');
      file = opened;
      let position = 0;
      let waiters: GroupWaiter[] = [];
      let flushing = false;
      const flush = async (): Promise<void> => {
        flushing = true;
        while (waiters.length > 0) {
          const group = waiters;
          waiters = [];
          const data = Buffer.concat(group.map(() => payload));
          try {
            await opened.write(data, 0, data.length, position);
            position += data.length;
            await opened.datasync();
            for (const waiter of group) waiter.resolve();
          } catch (error) {
            for (const waiter of group) waiter.reject(error);
          }
        }
        flushing = false;
      };
      return () =>
        new Promise<void>((resolve, reject) => {
          waiters.push({ resolve, reject });
          if (!flushing) void flush();
        });
    },
    close: async () => file?.close(),
  };
}

function lmdbTarget(path: string, payload: Buffer): LatencyTarget {
  let database: RootDatabase<Buffer, Key> | undefined;
  let sequence = 0;
  return {
    name: SYSTEM_LMDB,
    async open() {
      const opened = openLmdb(path);
      database = opened;
      return () => opened.put(sequence++, payload);
    },
    async close() {
      await database?.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Enough records per round for a p99.9 to mean something, few enough for a default run. */
function recordsPerWriter(writers: number, quick: boolean): number {
  const total = quick ? 1024 : 8192;
  return Math.max(4, Math.floor(total / writers));
}

function latencyScenario(writers: number): Scenario {
  return {
    name: `journal-durable-latency-${writers}`,
    backend: 'journal',
    description: `${writers} concurrent writer${writers === 1 ? '' : 's'}: p99 time from append to resolved durability of each 100-byte record (details: p50, p99.9, max, event-loop delay)`,
    unit: 'µs',
    measure: 'reported',
    lowerIsBetter: true,
    targets: [],
    sizing(quick) {
      return { workPerRound: writers * recordsPerWriter(writers, quick), rounds: quick ? 2 : 5, warmupRounds: 1 };
    },
    async systems(context, sizing) {
      const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
      const record = payload as Buffer;
      const perWriter = sizing.workPerRound / writers;
      return [
        keelJournalTarget(join(context.directory, 'journal.log'), record, false),
        keelJournalTarget(join(context.directory, 'journal-direct.log'), record, true),
        rawFsTarget(join(context.directory, 'raw-latency.log'), record),
        rawFsGroupTarget(join(context.directory, 'raw-group-latency.log'), record),
        lmdbTarget(join(context.directory, 'lmdb-latency'), record),
      ].map((target) => latencySystem(target, writers, perWriter));
    },
  };
}

/** One durable append at a time on the calling thread: the journal's syncSync() against writeSync + fdatasyncSync. */
const SYNC_SINGLE_SCENARIO: Scenario = {
  name: 'journal-append-single-sync',
  backend: 'journal',
  description: 'one 100-byte record at a time, made durable on the calling thread (journal syncSync vs writeSync + fdatasyncSync)',
  unit: 'ops/s',
  measure: 'throughput',
  targets: [{ kind: 'ratio-at-least', system: SYSTEM_RAW_FS, factor: 0.95 }],
  countSyncs: true,
  sizing(quick) {
    return withSingleAppendWarmup({ workPerRound: quick ? 50 : 200, rounds: quick ? 2 : 5, warmupRounds: 1 }, quick);
  },
  async systems(context, sizing) {
    const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
    const record = payload as Buffer;
    let journal: Journal | undefined;
    let raw: RawFsLog | undefined;
    return [
      {
        name: 'keel journal (syncSync)',
        async setup() {
          const { Journal } = await loadBackend('journal');
          journal = await Journal.open(join(context.directory, 'journal-sync.log'), { durability: EXPLICIT });
        },
        async run() {
          const opened = journal as Journal;
          for (let index = 0; index < sizing.workPerRound; index++) {
            opened.append(record);
            opened.syncSync();
          }
        },
        teardown: async () => journal?.close(),
      },
      {
        name: `${SYSTEM_RAW_FS} (writeSync + fdatasyncSync)`,
        setup: async () => void (raw = new RawFsLog(context.directory, 'raw-sync.log')),
        async run() {
          for (let index = 0; index < sizing.workPerRound; index++) raw?.appendDurably(record);
        },
        teardown: async () => raw?.close(),
      },
    ];
  },
};

export const JOURNAL_LATENCY_SCENARIOS: Scenario[] = [latencyScenario(1), latencyScenario(16), latencyScenario(256), SYNC_SINGLE_SCENARIO];
