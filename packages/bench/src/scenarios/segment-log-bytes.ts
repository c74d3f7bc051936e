import { join } from 'node:path';
import { loadBackend, type SegmentLog } from '../backends.js';
import type { ScenarioContext } from '../types.js';

const EXPLICIT = { mode: 'explicit' } as const;

/** The systems that both segment-log append scenarios (in rounds and taking turns) measure under one name. */
export const SYSTEM_RAW_FS_FRAMED = "node:fs, segment-log's bytes";
export const SYSTEM_RAW_FS_FRAMED_ASYNC = "node:fs async fdatasync, segment-log's bytes";
export const SYSTEM_JOURNAL_FRAMED = "keel journal, segment-log's bytes";
export const SYSTEM_LOG_SYNC_SYNC = 'keel segment-log, syncSync()';

/**
 * The bytes segment-log takes per record of one of the batches (its batch frames' share
 * included), rounded to a whole byte: measured on a scratch log rather than computed, so
 * the figure follows the format.
 */
export async function segmentLogRecordBytes(context: ScenarioContext, records: Parameters<SegmentLog['appendBatch']>[0]): Promise<number> {
  const { SegmentLog } = await loadBackend('segment-log');
  const directory = join(context.directory, 'segment-log-frame-size');
  const log = await SegmentLog.open(directory, { durability: EXPLICIT });
  const before = log.stats().bytes;
  log.appendBatch(records);
  const bytes = log.stats().bytes - before;
  await log.close();
  return Math.round(bytes / records.length);
}

