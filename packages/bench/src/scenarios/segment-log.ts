import { join } from 'node:path';
import { FRAME_OVERHEAD_BYTES, nativeIo, type Io } from '@keel/core';
import { loadBackend, type Journal, type SegmentLog } from '../backends.js';
import { makePayloads, RandomSource, RECORD_BYTES_SMALL, TIMESTAMP_BASE_MS } from '../records.js';
import type { BenchSystem, Scenario, ScenarioContext } from '../types.js';
import { bytesPerRun, levelBatchAppender, lmdbBatchAppender, rawFsBatchAppender, sqliteBatchAppender, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';
import { peerRangeReaders, sharedPeerLogs } from './peer-logs.js';
import { buildOnce } from './shared-data.js';
import { SEGMENT_LOG_DELETE_SCENARIO } from './segment-log-delete.js';
import { SEGMENT_LOG_ROLL_SCENARIO } from './segment-log-roll.js';
import { keelJournal } from './journal.js';
import { withoutSyncs } from './without-syncs.js';
import { segmentLogRecordBytes, SYSTEM_JOURNAL_FRAMED, SYSTEM_LOG_SYNC_SYNC, SYSTEM_RAW_FS_FRAMED, SYSTEM_RAW_FS_FRAMED_ASYNC } from './segment-log-bytes.js';
import { SEGMENT_LOG_APPEND_PAIRED_SCENARIO } from './segment-log-paired.js';

const SYSTEM_LOG_NO_SYNC = 'keel segment-log, fdatasync a no-op';
const SYSTEM_JOURNAL_NO_SYNC = 'keel journal, fdatasync a no-op';
const SYSTEM_LOG_SMALL_SEGMENTS = 'keel segment-log, 1 MiB segments';
const SYSTEM_LOG_SMALL_SEGMENTS_NO_SYNC = 'keel segment-log, 1 MiB segments, fdatasync a no-op';
/** Small enough that a round of 40 batches of about 105 KB rolls about four times: what a roll costs an append shows. */
const SMALL_SEGMENT_BYTES = 1024 * 1024;
const SYSTEM_RAW_FS_FRAMED_PREWRITTEN = "node:fs over pre-written space, segment-log's bytes";
import { SEGMENT_LOG_SCAN_SCENARIO } from './segment-log-scan.js';
import { logReaders } from './segment-log-readers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_RECORDS = 1000;
const BUILD_BATCH_RECORDS = 10_000;

/** segment-log as a bench system; `variant` names it otherwise and opens it over another `io` or with smaller segments. */
export function keelLog(directory: string, run: (log: SegmentLog) => Promise<number | void>, variant?: { name: string; io?: Io; segmentBytes?: number }): BenchSystem {
  let log: SegmentLog | undefined;
  return {
    name: variant?.name ?? 'keel segment-log',
    async setup() {
      const { SegmentLog } = await loadBackend('segment-log');
      log = await SegmentLog.open(directory, { durability: EXPLICIT, ...(variant?.io === undefined ? {} : { io: variant.io }), ...(variant?.segmentBytes === undefined ? {} : { segmentBytes: variant.segmentBytes }) });
    },
    run: () => run(log as SegmentLog),
    async teardown() {
      await log?.close();
    },
  };
}

/** A log of `records` 100-byte values with timestamps one millisecond apart, built once per run. */
function sharedLog(context: ScenarioContext, records: number): Promise<string> {
  const directory = join(context.sharedDirectory, `segment-log-${records}`);
  return buildOnce(directory, async () => {
    const { SegmentLog } = await loadBackend('segment-log');
    const log = await SegmentLog.open(directory, { durability: EXPLICIT });
    const values = makePayloads(BUILD_BATCH_RECORDS, RECORD_BYTES_SMALL, 5);
    for (let first = 0; first < records; first += BUILD_BATCH_RECORDS) {
      const count = Math.min(BUILD_BATCH_RECORDS, records - first);
      log.appendBatch(values.slice(0, count).map((value, index) => ({ value, timestamp: TIMESTAMP_BASE_MS + first + index })));
    }
    await log.sync();
    await log.close();
    return directory;
  });
}

const appendBatch: Scenario = {
  name: 'segment-log-append-batch',
  backend: 'segment-log',
  description: `appends of 100-byte values, ${BATCH_RECORDS} per batch, a sync per batch`,
  unit: 'records/s',
  measure: 'throughput',
  // The pace against the journal is held in segment-log-append-batch-paired, where the two
  // take turns batch by batch: here, in rounds of 40 batches, it moved by 20 % between runs.
  // The ceiling: node:fs appending segment-log's bytes, one write and one fdatasync per batch.
  targets: [
    { kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 3, ceiling: SYSTEM_RAW_FS_FRAMED },
    { kind: 'ratio-at-least', system: SYSTEM_SQLITE, factor: 3, ceiling: SYSTEM_RAW_FS_FRAMED },
  ],
  countSyncs: true,
  // 15 rounds: a round of keel's lasts about 15 ms, so one slow round weighs a lot. With 5,
  // segment-log's median ran 0.67×–0.82× node:fs writing its bytes in four default runs;
  // with 15, 0.89×–0.94× in three runs of this scenario (about 25 s more a run).
  sizing: (quick) => ({ workPerRound: (quick ? 4 : 40) * BATCH_RECORDS, rounds: quick ? 2 : 15, warmupRounds: 1 }),
  async systems(context, sizing) {
    const payloads = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL);
    const batches = Array.from({ length: sizing.workPerRound / BATCH_RECORDS }, () => payloads);
    const records = payloads.map((value) => ({ value }));
    const appendLog = async (log: SegmentLog): Promise<void> => {
      for (let batch = 0; batch < batches.length; batch++) {
        log.appendBatch(records);
        await log.sync();
      }
    };
    const journalAppender = (journalBatches: readonly (readonly Uint8Array[])[]) => async (journal: Journal): Promise<void> => {
      for (const batch of journalBatches) await journal.syncThrough(journal.appendBatch(batch));
    };
    // The same batches made durable on the calling thread: the async completion taken out.
    const appendLogSyncSync = async (log: SegmentLog): Promise<void> => {
      for (let batch = 0; batch < batches.length; batch++) {
        log.appendBatch(records);
        log.syncSync();
      }
    };
    const appendJournal = journalAppender(batches);
    const recordBytes = await segmentLogRecordBytes(context, records);
    // The batches again with every payload `bytes` long (as many distinct payloads as the others have).
    const sized = (bytes: number): Uint8Array[][] => {
      const sizedPayloads = makePayloads(BATCH_RECORDS, bytes);
      return batches.map(() => sizedPayloads);
    };
    // keel's own cost per durable batch (framing, the write, the group commit), the disk taken out.
    const noSyncIo = withoutSyncs(nativeIo);
    const framedBatches = sized(recordBytes);
    return [
      keelLog(join(context.directory, 'segment-log'), appendLog),
      // The same payloads as whole records of the journal (journal-append-batch), in the same run.
      keelJournal(join(context.directory, 'journal.log'), appendJournal),
      keelLog(join(context.directory, 'segment-log-nosync'), appendLog, { name: SYSTEM_LOG_NO_SYNC, io: noSyncIo }),
      keelLog(join(context.directory, 'segment-log-syncsync'), appendLogSyncSync, { name: SYSTEM_LOG_SYNC_SYNC }),
      // Rolls on the append path: the same appends into segments that fill every ~10 batches.
      keelLog(join(context.directory, 'segment-log-small'), appendLog, { name: SYSTEM_LOG_SMALL_SEGMENTS, segmentBytes: SMALL_SEGMENT_BYTES }),
      keelLog(join(context.directory, 'segment-log-small-nosync'), appendLog, { name: SYSTEM_LOG_SMALL_SEGMENTS_NO_SYNC, io: noSyncIo, segmentBytes: SMALL_SEGMENT_BYTES }),
      keelJournal(join(context.directory, 'journal-nosync.log'), appendJournal, { name: SYSTEM_JOURNAL_NO_SYNC, io: noSyncIo }),
      rawFsBatchAppender(context.directory, batches),
      // The disk's part of the pace: node:fs writing as many bytes per record as segment-log's frames,
      // and the journal framing records of that size (its payload is the frame less its own 12
      // bytes): keel's leanest write path carrying segment-log's bytes, without its fields.
      rawFsBatchAppender(context.directory, framedBatches, { name: SYSTEM_RAW_FS_FRAMED, file: 'raw-framed.log' }),
      // Those bytes with the fdatasync on the threadpool: what an async caller of node:fs gets,
      // the completion back on the event loop included, as keel's sync() has it.
      rawFsBatchAppender(context.directory, framedBatches, { name: SYSTEM_RAW_FS_FRAMED_ASYNC, file: 'raw-framed-async.log' }, 'async'),
      // The same bytes written over a file's own, already written and synced: what appending
      // (a new file size to commit with every fdatasync) costs every log above, the disk the same.
      rawFsBatchAppender(context.directory, sized(recordBytes), { name: SYSTEM_RAW_FS_FRAMED_PREWRITTEN, file: 'raw-framed-prewritten.log', prewrittenBytes: bytesPerRun(sizing, framedBatches) }),
      keelJournal(join(context.directory, 'journal-framed.log'), journalAppender(sized(recordBytes - FRAME_OVERHEAD_BYTES)), { name: SYSTEM_JOURNAL_FRAMED }),
      lmdbBatchAppender(context.directory, batches),
      levelBatchAppender(context.directory, batches),
      sqliteBatchAppender(context.directory, batches),
    ];
  },
};

const readSequential: Scenario = {
  name: 'segment-log-read-1m',
  backend: 'segment-log',
  description: 'sequential read of every record from offset 0 (100-byte values), warm cache: readBatch() (4 MiB per call, each batch released after use, and not released), scan() and read() (4 MiB per call)',
  unit: 'records/s',
  measure: 'throughput',
  targets: [{ kind: 'value-at-least', value: 5_000_000 }],
  sizing: (quick) => ({
    workPerRound: quick ? 50_000 : 1_000_000,
    rounds: 5,
    // The data was just written (page cache warm) and a round of 1M records warms the JIT early.
    warmupRounds: 0,
    scaleNote: `${quick ? 'quick run: 50k records instead of 1M; ' : ''}no warm-up round: the data was just written, so the cache is warm`,
  }),
  async systems(context, sizing) {
    const directory = await sharedLog(context, sizing.workPerRound);
    const peers = await sharedPeerLogs(context, sizing.workPerRound);
    return [...logReaders(directory, ['readBatch', 'readBatchUnreleased', 'scan', 'read'], sizing.workPerRound), ...peerRangeReaders(peers, sizing.workPerRound)];
  },
};

const LOOKUPS_PER_ROUND = 20_000;

function medianOf(samples: Float64Array): number {
  samples.sort();
  return samples[samples.length >> 1] as number;
}

const offsetForTimestamp: Scenario = {
  name: 'segment-log-offset-for-timestamp',
  backend: 'segment-log',
  description: `offsetForTimestamp on a 10M-record log: median latency of ${LOOKUPS_PER_ROUND} random lookups`,
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [{ kind: 'value-at-most', value: 50 }],
  sizing: (quick) => ({
    workPerRound: quick ? 100_000 : 10_000_000,
    rounds: quick ? 2 : 3,
    warmupRounds: 1,
    scaleNote: quick
      ? 'quick run: a 100k-record log; SQLite peer on 100k rows'
      : 'SQLite peer (indexed timestamp column) holds 1M rows, not 10M, to keep the default run short',
  }),
  async systems(context, sizing) {
    const directory = await sharedLog(context, sizing.workPerRound);
    const peerRecords = Math.min(sizing.workPerRound, 1_000_000);
    const peers = await sharedPeerLogs(context, peerRecords);
    const samples = new Float64Array(LOOKUPS_PER_ROUND);
    const timed = (lookup: (timestamp: number) => unknown, records: number) => async () => {
      const random = new RandomSource(23);
      for (let index = 0; index < samples.length; index++) {
        const timestamp = TIMESTAMP_BASE_MS + random.below(records);
        const started = process.hrtime.bigint();
        if (lookup(timestamp) === undefined) throw new Error(`no offset for timestamp ${timestamp}`);
        samples[index] = Number(process.hrtime.bigint() - started) / 1e3;
      }
      return medianOf(samples);
    };
    let log: SegmentLog | undefined;
    return [
      {
        name: 'keel segment-log',
        async setup() {
          const { SegmentLog } = await loadBackend('segment-log');
          log = await SegmentLog.open(directory, { durability: EXPLICIT });
        },
        run: timed((timestamp) => log?.offsetForTimestamp(timestamp), sizing.workPerRound),
        async teardown() {
          await log?.close();
        },
      },
      { name: `${SYSTEM_SQLITE} (indexed, ${peerRecords / 1e6}M rows)`, run: timed(peers.sqliteOffsetForTimestamp, peerRecords) },
    ];
  },
};

export const SEGMENT_LOG_SCENARIOS: Scenario[] = [appendBatch, SEGMENT_LOG_APPEND_PAIRED_SCENARIO, SEGMENT_LOG_ROLL_SCENARIO, readSequential, SEGMENT_LOG_SCAN_SCENARIO, offsetForTimestamp, SEGMENT_LOG_DELETE_SCENARIO];

