import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type SegmentLog } from '../backends.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import { quantile } from '../statistics.js';
import type { BenchSystem, Scenario } from '../types.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_RECORDS = 1000;
/** 1,000 framed 100-byte records are about 105 KB: a segment of 1 MiB rolls about every 10 batches. */
const SEGMENT_BYTES = 1024 * 1024;
const MICROSECONDS_PER_NANOSECOND = 1e-3;

/** A batch that rolled, the batch right after it (its sync meets the roll's background work), or any other. */
type Kind = 'rolls' | 'follows a roll' | 'does not roll';
/** What is timed: the `appendBatch` call alone, or from its start until the sync after it resolves. */
type Span = 'append' | 'append and sync';

/**
 * Times batches of 1,000 100-byte records with a sync after each, into 1 MiB segments,
 * and reports the median of the batches of one kind: those that rolled to a new segment,
 * those right after one (the roll's rename, next prepared file and sealed index frames
 * are written while they are), or the others; the 99th percentile and the longest go
 * beside it. `append` times the
 * `appendBatch` call (the event loop is held for exactly that long); `append and sync`
 * times from its start until the sync after it resolves (how long the writer waits for
 * its batch to be durable).
 */
function batchTimes(directory: string, kind: Kind, span: Span, batches: number): BenchSystem {
  let round = 0;
  let samples: number[] = [];
  return {
    name: span === 'append' ? `keel segment-log, append that ${kind}` : `keel segment-log, append + sync of a batch that ${kind}`,
    async run() {
      const { SegmentLog } = await loadBackend('segment-log');
      const dir = join(directory, `${kind.replaceAll(' ', '-')}-${span === 'append' ? 'append' : 'synced'}-${round++}`);
      const log: SegmentLog = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
      const records = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL).map((value) => ({ value }));
      const times: Record<Kind, number[]> = { rolls: [], 'follows a roll': [], 'does not roll': [] };
      let previous: Kind = 'does not roll';
      try {
        for (let batch = 0; batch < batches; batch++) {
          const segments = log.stats().segments;
          const started = process.hrtime.bigint();
          log.appendBatch(records);
          const appended = process.hrtime.bigint();
          await log.sync();
          const ended = span === 'append' ? appended : process.hrtime.bigint();
          const current: Kind = log.stats().segments !== segments ? 'rolls' : previous === 'rolls' ? 'follows a roll' : 'does not roll';
          times[current].push(Number(ended - started) * MICROSECONDS_PER_NANOSECOND);
          previous = current;
        }
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
      samples = times[kind].sort((left, right) => left - right);
      return quantile(samples, 0.5);
    },
    details: () => ({ p99: quantile(samples, 0.99), max: samples[samples.length - 1] ?? 0 }),
  };
}

export const SEGMENT_LOG_ROLL_SCENARIO: Scenario = {
  name: 'segment-log-roll-append',
  backend: 'segment-log',
  description: `batches of ${BATCH_RECORDS} 100-byte records, a sync after each, 1 MiB segments: the time an appendBatch call holds the event loop, and the time from its start until its sync resolves, for the batches that rolled to a new segment and those right after them against the others`,
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  sizing: (quick) => ({ workPerRound: quick ? 100 : 600, rounds: quick ? 2 : 5, warmupRounds: 1, scaleNote: `${quick ? 100 : 600} batches per round, about ${quick ? 10 : 60} of them rolling` }),
  async systems(context, sizing) {
    const { directory } = context;
    const batches = sizing.workPerRound;
    return [
      batchTimes(directory, 'rolls', 'append', batches),
      batchTimes(directory, 'does not roll', 'append', batches),
      batchTimes(directory, 'rolls', 'append and sync', batches),
      batchTimes(directory, 'follows a roll', 'append and sync', batches),
      batchTimes(directory, 'does not roll', 'append and sync', batches),
    ];
  },
};
