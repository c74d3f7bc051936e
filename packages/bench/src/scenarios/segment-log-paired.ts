import { join } from 'node:path';
import { FRAME_OVERHEAD_BYTES } from '@keel/core';
import { loadBackend, type Journal, type SegmentLog } from '../backends.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { Scenario } from '../types.js';
import { pairedSystems, storeVariant, type PairedVariant } from './paired-rounds.js';
import { lmdbPairedVariant, rawFsPairedVariant, sqlitePairedVariant, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';
import { segmentLogRecordBytes, SYSTEM_JOURNAL_FRAMED, SYSTEM_LOG_SYNC_SYNC, SYSTEM_RAW_FS_FRAMED, SYSTEM_RAW_FS_FRAMED_ASYNC } from './segment-log-bytes.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_RECORDS = 1000;
const SYSTEM_JOURNAL = 'keel journal';

/** segment-log's batch made durable by `sync()` or, with `onCallingThread`, by `syncSync()`. */
function logVariant(path: string, records: Parameters<SegmentLog['appendBatch']>[0], onCallingThread = false): PairedVariant {
  const open = async (): Promise<SegmentLog> => (await loadBackend('segment-log')).SegmentLog.open(path, { durability: EXPLICIT });
  return storeVariant(onCallingThread ? SYSTEM_LOG_SYNC_SYNC : 'keel segment-log', open, (log) => {
    log.appendBatch(records);
    if (!onCallingThread) return log.sync();
    log.syncSync();
  });
}

function journalVariant(name: string, path: string, payloads: readonly Uint8Array[]): PairedVariant {
  const open = async (): Promise<Journal> => (await loadBackend('journal')).Journal.open(path, { durability: EXPLICIT });
  return storeVariant(name, open, (journal) => journal.syncThrough(journal.appendBatch(payloads)));
}

/**
 * segment-log's durable batches against the journal's with the two taking turns batch by
 * batch (see `pairedSystems`), so that the shared disk's slow moments weigh on both
 * alike. In rounds of 40 batches per system (segment-log-append-batch) the same
 * comparison measured 0.85×–1.00× over five runs of one afternoon: a round of one system
 * lasts about 25 ms, and the disk's pace changes from one such stretch to the next. µs per
 * durable batch of 1,000 100-byte records, the median of each round; beside them the
 * journal carrying segment-log's bytes per record (keel's leanest path with the same
 * write), node:fs writing and fdatasyncing each batch as one buffer of those bytes, and
 * lmdb and better-sqlite3 making the same payloads durable in one transaction each: the
 * ratios segment-log-append-batch holds the peers to, measured here in turns, where its
 * rounds of 40 batches put them 2.6×–3.0× apart over a few runs of one evening. Those
 * targets hold here too, each with node:fs's own ratio in the same turns beside it: what
 * appending the same bytes allows on the disk of the run.
 */
export const SEGMENT_LOG_APPEND_PAIRED_SCENARIO: Scenario = {
  name: 'segment-log-append-batch-paired',
  backend: 'segment-log',
  description: `µs per durable batch of ${BATCH_RECORDS} 100-byte records, the systems taking turns batch by batch: segment-log appendBatch + sync (and + syncSync), the journal on the same payloads and on segment-log's bytes per record, node:fs write + fdatasync of those bytes (fdatasyncSync, and fs.fdatasync on the threadpool), lmdb and better-sqlite3 one transaction per batch`,
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [
    { kind: 'ratio-at-least', system: SYSTEM_JOURNAL, factor: 0.9 },
    { kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 3, ceiling: SYSTEM_RAW_FS_FRAMED },
    { kind: 'ratio-at-least', system: SYSTEM_SQLITE, factor: 3, ceiling: SYSTEM_RAW_FS_FRAMED },
  ],
  sizing: (quick) => ({ workPerRound: quick ? 10 : 100, rounds: quick ? 2 : 5, warmupRounds: 1 }),
  async systems(context, sizing) {
    const payloads = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL);
    const records = payloads.map((value) => ({ value }));
    const recordBytes = await segmentLogRecordBytes(context, records);
    const at = (name: string): string => join(context.directory, name);
    const framedPayloads = makePayloads(BATCH_RECORDS, recordBytes);
    return pairedSystems(
      [
        logVariant(at('segment-log'), records),
        logVariant(at('segment-log-syncsync'), records, true),
        journalVariant(SYSTEM_JOURNAL, at('journal.log'), payloads),
        // The journal's payload is its frame less its own 12 bytes: a frame as long as segment-log's record.
        journalVariant(SYSTEM_JOURNAL_FRAMED, at('journal-framed.log'), makePayloads(BATCH_RECORDS, recordBytes - FRAME_OVERHEAD_BYTES)),
        rawFsPairedVariant(SYSTEM_RAW_FS_FRAMED, context.directory, 'raw-framed.log', framedPayloads, 'sync'),
        rawFsPairedVariant(SYSTEM_RAW_FS_FRAMED_ASYNC, context.directory, 'raw-framed-async.log', framedPayloads, 'async'),
        lmdbPairedVariant(context.directory, payloads),
        sqlitePairedVariant(context.directory, payloads),
      ],
      sizing.workPerRound,
    );
  },
};
