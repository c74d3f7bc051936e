import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type SegmentLog } from '../backends.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import { RawRollingLog } from '../peers/raw-rolling-log.js';
import { quantile } from '../statistics.js';
import { HelperThreadClock } from '../cpu-clocks.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import { segmentLogRecordBytes } from './segment-log-bytes.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_RECORDS = 1000;
/** 1,000 framed 100-byte records are about 105 KB: a segment of 1 MiB rolls about every 10 batches. */
const SEGMENT_BYTES = 1024 * 1024;
const MICROSECONDS_PER_NANOSECOND = 1e-3;

/** A batch that rolled, the batch right after it (its sync meets the roll's background work), or any other. */
type Kind = 'rolls' | 'follows a roll' | 'does not roll';
/** What is timed: the `appendBatch` call alone, or from its start until the sync after it resolves. */
type Span = 'append' | 'append and sync';

/** A log under test as the timing loop drives it: one batch at a time, a sync after each. */
interface RollingWriter {
  append(): void;
  sync(): Promise<unknown>;
  /** Files (segments) so far: a batch rolled when this grew. */
  files(): number;
  close(): Promise<void>;
}

/**
 * Times `batches` batches with a sync after each and reports the median of the batches of
 * one kind: those that rolled to a new file, those right after one (the roll's background
 * work runs while they do), or the others; the 99th percentile and the longest go beside
 * it. `append` times the append call (the event loop is held for exactly that long);
 * `append and sync` times from its start until the sync after it resolves (how long the
 * writer waits for its batch to be durable). With `helpers`, the details also say how many
 * of the batches at or above the 99th percentile, and how many of all, had the process's
 * helper threads (V8's workers, libuv's threadpool: see `HelperThreadClock`) on a CPU for
 * at least HELPER_BUSY_NANOSECONDS meanwhile: what a slow batch waited for, where it was
 * not the disk. Not for node:fs, whose fdatasync runs on that threadpool.
 */
function batchTimes(name: string, kind: Kind, span: Span, batches: number, open: () => Promise<RollingWriter>, helpers = false): BenchSystem {
  // Each batch's time and its helper threads' CPU time, side by side.
  let samples: number[] = [];
  let helperTimes: number[] = [];
  return {
    name,
    async run() {
      const writer = await open();
      const times: Record<Kind, number[]> = { rolls: [], 'follows a roll': [], 'does not roll': [] };
      const helperRuns: Record<Kind, number[]> = { rolls: [], 'follows a roll': [], 'does not roll': [] };
      const clock = helpers ? HelperThreadClock.open() : null;
      let previous: Kind = 'does not roll';
      try {
        for (let batch = 0; batch < batches; batch++) {
          const files = writer.files();
          const helpersBefore = clock?.nanoseconds() ?? 0;
          const started = process.hrtime.bigint();
          writer.append();
          const appended = process.hrtime.bigint();
          await writer.sync();
          const ended = span === 'append' ? appended : process.hrtime.bigint();
          const helpersAfter = clock?.nanoseconds() ?? 0;
          const current: Kind = writer.files() !== files ? 'rolls' : previous === 'rolls' ? 'follows a roll' : 'does not roll';
          times[current].push(Number(ended - started) * MICROSECONDS_PER_NANOSECOND);
          helperRuns[current].push(helpersAfter - helpersBefore);
          previous = current;
        }
      } finally {
        clock?.close();
        await writer.close();
      }
      samples = times[kind];
      helperTimes = clock === null ? [] : helperRuns[kind];
      return quantile([...samples].sort((left, right) => left - right), 0.5);
    },
    details: () => tailDetails(samples, helperTimes),
  };
}

/** Helper threads' CPU time during a batch that counts as busy: about what a whole durable batch takes here. */
const HELPER_BUSY_NANOSECONDS = 500_000;

/** p99 and max of `samples`; with helper times beside them, how many batches in the tail and overall had helpers busy (%). */
function tailDetails(samples: readonly number[], helperTimes: readonly number[]): Record<string, number> {
  const sorted = [...samples].sort((left, right) => left - right);
  const p99 = quantile(sorted, 0.99);
  const details: Record<string, number> = { p99, max: sorted[sorted.length - 1] ?? 0 };
  if (helperTimes.length !== samples.length || samples.length === 0) return details;
  const busy = (index: number): boolean => (helperTimes[index] as number) >= HELPER_BUSY_NANOSECONDS;
  const tail = samples.flatMap((time, index) => (time >= p99 ? [index] : []));
  details['p99 tail with helpers busy %'] = (100 * tail.filter(busy).length) / tail.length;
  details['all with helpers busy %'] = (100 * samples.filter((_, index) => busy(index)).length) / samples.length;
  return details;
}

/** segment-log with 1 MiB segments, in a fresh directory each round. */
function keelWriter(directory: string, records: Parameters<SegmentLog['appendBatch']>[0]): () => Promise<RollingWriter> {
  let round = 0;
  return async () => {
    const { SegmentLog } = await loadBackend('segment-log');
    const dir = join(directory, `keel-${round++}`);
    const log: SegmentLog = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
    return {
      append: () => void log.appendBatch(records),
      sync: () => log.sync(),
      files: () => log.stats().segments,
      async close() {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

/** node:fs writing segment-log's bytes for the same batches into 1 MiB files, rolling as segment-log does (see `RawRollingLog`). */
function rawWriter(directory: string, batchBytes: number): () => Promise<RollingWriter> {
  const bytes = makePayloads(1, batchBytes, 2)[0] as Buffer;
  let round = 0;
  return async () => {
    const dir = join(directory, `raw-${round++}`);
    const log = new RawRollingLog(dir, SEGMENT_BYTES);
    let pending: Promise<void> = Promise.resolve();
    return {
      append: () => void (pending = log.appendBatchDurably(bytes)),
      sync: () => pending,
      files: () => log.files,
      async close() {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

export const SEGMENT_LOG_ROLL_SCENARIO: Scenario = {
  name: 'segment-log-roll-append',
  backend: 'segment-log',
  description: `batches of ${BATCH_RECORDS} 100-byte records, a sync after each, 1 MiB segments: the time an appendBatch call holds the event loop, and the time from its start until its sync resolves, for the batches that rolled to a new segment and those right after them against the others; node:fs writing the same bytes into 1 MiB files with the least a crash-safe roll needs (a file made ahead, a rename after the roll, a directory fsync for each, in the background) is the floor`,
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  sizing: (quick) => ({ workPerRound: quick ? 100 : 600, rounds: quick ? 2 : 5, warmupRounds: 1, scaleNote: `${quick ? 100 : 600} batches per round, about ${quick ? 10 : 60} of them rolling` }),
  async systems(context, sizing) {
    const batches = sizing.workPerRound;
    const records = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL).map((value) => ({ value }));
    const keel = keelWriter(context.directory, records);
    const raw = rawWriter(context.directory, BATCH_RECORDS * (await segmentLogRecordBytes(context, records)));
    const keelTimes = (kind: Kind, span: Span): BenchSystem =>
      span === 'append'
        ? batchTimes(`keel segment-log, append that ${kind}`, kind, span, batches, keel)
        : batchTimes(`keel segment-log, append + sync of a batch that ${kind}`, kind, span, batches, keel, true);
    const rawTimes = (kind: Kind): BenchSystem => batchTimes(`${SYSTEM_RAW_FS}, write + fdatasync of a batch that ${kind}`, kind, 'append and sync', batches, raw);
    return [
      keelTimes('rolls', 'append'),
      keelTimes('does not roll', 'append'),
      keelTimes('rolls', 'append and sync'),
      keelTimes('follows a roll', 'append and sync'),
      keelTimes('does not roll', 'append and sync'),
      rawTimes('rolls'),
      rawTimes('follows a roll'),
      rawTimes('does not roll'),
    ];
  },
};
