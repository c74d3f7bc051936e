import { join } from 'node:path';
import type { Io } from '@keel/core';
import { loadBackend, type Journal } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario, ScenarioSizing } from '../types.js';
import {
  bytesPerRun,
  levelBatchAppender,
  levelConcurrentWriters,
  lmdbBatchAppender,
  lmdbConcurrentWriters,
  rawFsBatchAppender,
  runWriters,
  sqliteBatchAppender,
  SYSTEM_CLASSIC_LEVEL,
  SYSTEM_LMDB,
  SYSTEM_RAW_FS,
  SYSTEM_SQLITE,
} from './peer-systems.js';
import { singleDurableAppenders } from './single-append.js';
import { withSingleAppendWarmup } from './single-append-warmup.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_RECORDS = 1000;
/** The journal with its syncs on the libuv threadpool rather than its own sync thread. */
const SYSTEM_JOURNAL_THREADPOOL = 'keel journal, syncs on the threadpool';
const SYSTEM_RAW_FS_PREWRITTEN = 'node:fs over pre-written space';
const SYSTEM_JOURNAL_SYNC_SYNC = 'keel journal, syncThroughSync()';

/** How a variant of the journal system differs: its name, and the Io and sync thread it opens with. */
export interface JournalVariant {
  name: string;
  io?: Io;
  syncThread?: boolean;
}

/** The journal as a bench system; `run` is one round. `variant` names it otherwise and opens it differently. */
export function keelJournal(path: string, run: (journal: Journal) => Promise<void>, variant?: JournalVariant): BenchSystem {
  let journal: Journal | undefined;
  return {
    name: variant?.name ?? 'keel journal',
    async setup() {
      const { Journal } = await loadBackend('journal');
      journal = await Journal.open(path, {
        durability: EXPLICIT,
        ...(variant?.io === undefined ? {} : { io: variant.io }),
        ...(variant?.syncThread === undefined ? {} : { syncThread: variant.syncThread }),
      });
    },
    run: () => run(journal as Journal),
    async teardown() {
      await journal?.close();
    },
  };
}

function batchScenario(name: string, recordBytes: number, targeted: boolean): Scenario {
  return {
    name,
    backend: 'journal',
    description: `durable appends of ${recordBytes}-byte records, ${BATCH_RECORDS} per sync`,
    unit: 'records/s',
    measure: 'throughput',
    targets: targeted
      ? [
          { kind: 'ratio-at-least', system: SYSTEM_SQLITE, factor: 3, ceiling: SYSTEM_RAW_FS },
          { kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 3, ceiling: SYSTEM_RAW_FS },
        ]
      : [],
    countSyncs: true,
    sizing(quick): ScenarioSizing {
      const large = recordBytes > RECORD_BYTES_SMALL;
      const batches = quick ? (large ? 1 : 4) : large ? 4 : 40;
      // 15 rounds where the targets are: a round of the journal's lasts about 15 ms, so one
      // slow stretch of the shared disk moves a median of 5 (as in segment-log-append-batch).
      return { workPerRound: batches * BATCH_RECORDS, rounds: quick ? 2 : targeted ? 15 : 5, warmupRounds: 1 };
    },
    async systems(context, sizing) {
      const payloads = makePayloads(BATCH_RECORDS, recordBytes);
      const batches = Array.from({ length: sizing.workPerRound / BATCH_RECORDS }, () => payloads);
      return [
        keelJournal(join(context.directory, 'journal.log'), async (journal) => {
          for (const batch of batches) await journal.syncThrough(journal.appendBatch(batch));
        }),
        rawFsBatchAppender(context.directory, batches),
        // The same writes over a file's own, already written and synced bytes: what appending
        // (a new file size to commit with every fdatasync) costs the journal and node:fs above.
        ...(targeted
          ? [
              rawFsBatchAppender(context.directory, batches, { name: SYSTEM_RAW_FS_PREWRITTEN, file: 'raw-prewritten.log', prewrittenBytes: bytesPerRun(sizing, batches) }),
              // The journal and node:fs each with the other way of waiting: the batch made durable
              // on the calling thread, and the fdatasync on the threadpool with its completion
              // back on the event loop, as the journal's syncThrough has it.
              keelJournal(join(context.directory, 'journal-syncsync.log'), async (journal) => {
                for (const batch of batches) journal.syncThroughSync(journal.appendBatch(batch));
              }, { name: SYSTEM_JOURNAL_SYNC_SYNC }),
              rawFsBatchAppender(context.directory, batches, undefined, 'async'),
            ]
          : []),
        lmdbBatchAppender(context.directory, batches),
        levelBatchAppender(context.directory, batches),
        sqliteBatchAppender(context.directory, batches),
      ];
    },
  };
}

function singleScenario(name: string, recordBytes: number, targeted: boolean): Scenario {
  return {
    name,
    backend: 'journal',
    description: `one ${recordBytes}-byte record at a time, each durable before the next`,
    unit: 'ops/s',
    measure: 'throughput',
    targets: targeted ? [{ kind: 'ratio-at-least', system: SYSTEM_RAW_FS, factor: 0.8 }] : [],
    // One sync per record by construction; counting it again for 4 KiB records adds nothing.
    countSyncs: targeted,
    sizing(quick) {
      const large = recordBytes > RECORD_BYTES_SMALL;
      const sizing = { workPerRound: quick ? (large ? 20 : 50) : large ? 100 : 200, rounds: quick ? 2 : 5, warmupRounds: 1 };
      // The targeted scenario is measured once V8 has optimized the append path; the 4 KiB one is bound by the disk.
      return targeted ? withSingleAppendWarmup(sizing, quick) : sizing;
    },
    async systems(context, sizing) {
      const [payload] = makePayloads(1, recordBytes);
      const record = payload as Buffer;
      const appendOneByOne = async (journal: Journal): Promise<void> => {
        for (let index = 0; index < sizing.workPerRound; index++) await journal.syncThrough(journal.append(record));
      };
      return [
        keelJournal(join(context.directory, 'journal.log'), appendOneByOne),
        keelJournal(join(context.directory, 'journal-threadpool.log'), appendOneByOne, { name: SYSTEM_JOURNAL_THREADPOOL, syncThread: false }),
        ...singleDurableAppenders(context.directory, sizing.workPerRound, record),
      ];
    },
  };
}

/** Enough records that one round spans many group commits, few enough that one writer finishes fast. */
/**
 * Records each writer appends per round. Rounds of many writers hold 16,384 records: at
 * a few hundred thousand records/s a round of 4,096 lasted ~15 ms, short enough that JIT
 * warm-up and timer noise moved its median by 2× between runs.
 */
function recordsPerWriter(writers: number, quick: boolean): number {
  if (writers === 1) return quick ? 50 : 200;
  return Math.max(2, Math.floor((quick ? 512 : 16_384) / writers));
}

function concurrentScenario(writers: number): Scenario {
  return {
    name: `journal-concurrent-${writers}`,
    backend: 'journal',
    description: `${writers} async writer${writers === 1 ? '' : 's'}, each awaiting durability of each 100-byte record`,
    unit: 'ops/s',
    measure: 'throughput',
    targets:
      writers === 256
        ? [
            { kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 2 },
            { kind: 'ratio-at-least', system: SYSTEM_CLASSIC_LEVEL, factor: 20 },
          ]
        : [],
    countSyncs: true,
    sizing(quick) {
      const perWriter = recordsPerWriter(writers, quick);
      return { workPerRound: writers * perWriter, rounds: quick ? 2 : 5, warmupRounds: 1 };
    },
    async systems(context, sizing) {
      const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
      const record = payload as Buffer;
      const perWriter = sizing.workPerRound / writers;
      return [
        keelJournal(join(context.directory, 'journal.log'), async (journal) => {
          await runWriters(writers, perWriter, () => journal.syncThrough(journal.append(record)));
        }),
        lmdbConcurrentWriters(context.directory, writers, perWriter, record),
        levelConcurrentWriters(context.directory, writers, perWriter, record),
      ];
    },
  };
}

export const JOURNAL_WRITE_SCENARIOS: Scenario[] = [
  batchScenario('journal-append-batch', RECORD_BYTES_SMALL, true),
  batchScenario('journal-append-batch-4k', RECORD_BYTES_PAGE, false),
  singleScenario('journal-append-single', RECORD_BYTES_SMALL, true),
  singleScenario('journal-append-single-4k', RECORD_BYTES_PAGE, false),
  concurrentScenario(1),
  concurrentScenario(16),
  concurrentScenario(256),
];
