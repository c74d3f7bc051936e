import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE } from '../records.js';
import type { Scenario, ScenarioContext } from '../types.js';
import { journalSizing } from './journal-read.js';
import { rawReader } from './raw-read.js';
import { buildOnce } from './shared-data.js';
import { logReaders } from './segment-log-readers.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BUILD_BATCH_RECORDS = 256;

/** A log of 4 KiB values of about `bytes` (1 GiB: one segment at the default segment size), built and synced once. */
function sharedPageLog(context: ScenarioContext, bytes: number): Promise<string> {
  const directory = join(context.sharedDirectory, `segment-log-${bytes}-4k`);
  return buildOnce(directory, async () => {
    const { SegmentLog } = await loadBackend('segment-log');
    const log = await SegmentLog.open(directory, { durability: EXPLICIT });
    const records = makePayloads(BUILD_BATCH_RECORDS, RECORD_BYTES_PAGE, 7).map((value, index) => ({ value, timestamp: index }));
    for (let written = 0; written < bytes; written += BUILD_BATCH_RECORDS * RECORD_BYTES_PAGE) log.appendBatch(records);
    await log.sync();
    await log.close();
    return directory;
  });
}

export const SEGMENT_LOG_SCAN_SCENARIO: Scenario = {
  name: 'segment-log-scan-1gib-4k',
  backend: 'segment-log',
  description: 'full scan of a 1 GiB log of 4 KiB values with CRC checks, warm cache: scan() batches and read() (4 MiB per call), beside raw 1 MiB reads of the same files',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [{ kind: 'value-at-least', value: 2000 }],
  sizing: (quick) => ({ ...journalSizing(quick), ...(quick ? { scaleNote: 'quick run: a 16 MiB log instead of 1 GiB' } : {}) }),
  async systems(context, sizing) {
    const directory = await sharedPageLog(context, sizing.workPerRound);
    const logFiles = () => readdirSync(directory).filter((name) => name.endsWith('.log')).sort().map((name) => join(directory, name));
    return [...logReaders(directory, ['scan', 'read']), rawReader(logFiles)];
  },
};
