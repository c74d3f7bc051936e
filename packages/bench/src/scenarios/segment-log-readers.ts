import { loadBackend, type SegmentLog } from '../backends.js';
import type { BenchSystem } from '../types.js';
import { sharedHandle } from './shared-data.js';

/** Bytes per `read()` / `readBatch()` call when a log is read through. */
const READ_BYTES = 4 << 20;

/** `readBatch` releases each batch after use; `readBatchUnreleased` leaves each to the garbage collector. */
export type LogReadWay = 'readBatch' | 'readBatchUnreleased' | 'scan' | 'read';

const SYSTEM_NAMES: Record<LogReadWay, string> = {
  readBatch: 'keel segment-log readBatch(), each batch released',
  readBatchUnreleased: 'keel segment-log readBatch(), not released',
  scan: 'keel segment-log scan()',
  read: 'keel segment-log read()',
};

/** Reads every record of the log from offset 0, the way `how` names, touching each value; returns how many. */
export async function readWholeLog(log: SegmentLog, how: LogReadWay): Promise<number> {
  let records = 0;
  let valueBytes = 0;
  if (how === 'scan') {
    for await (const batch of log.scan({ from: 0 })) {
      for (let index = 0; index < batch.count; index++) valueBytes += batch.value(index).length;
      records += batch.count;
    }
  } else if (how === 'readBatch' || how === 'readBatchUnreleased') {
    for (let offset = 0; offset < log.nextOffset; ) {
      const batch = log.readBatch(offset, { maxBytes: READ_BYTES });
      for (let index = 0; index < batch.count; index++) valueBytes += batch.value(index).length;
      records += batch.count;
      offset = batch.nextOffset ?? log.nextOffset;
      // Nothing of a batch is kept past its turn, so a reader can release it for the next read to reuse.
      if (how === 'readBatch') batch.release();
    }
  } else {
    for (let offset = 0; offset < log.nextOffset; ) {
      const batch = log.read(offset, { maxBytes: READ_BYTES });
      for (const record of batch) valueBytes += record.value.length;
      records += batch.length;
      offset = (batch[batch.length - 1]?.offset ?? offset) + 1;
    }
  }
  if (valueBytes === 0) throw new Error('the read returned no value bytes');
  return records;
}

/**
 * One system per way of reading the log in `directory` through, all on one open handle
 * (the log's lock admits one); with `expectedRecords`, a round that reads another count fails.
 */
export function logReaders(directory: string, ways: readonly LogReadWay[], expectedRecords?: number): BenchSystem[] {
  const handle = sharedHandle(async () => (await loadBackend('segment-log')).SegmentLog.open(directory, { durability: { mode: 'explicit' } }));
  return ways.map((how) => {
    let log: SegmentLog | undefined;
    return {
      name: SYSTEM_NAMES[how],
      async setup() {
        log = await handle.acquire();
      },
      async run() {
        const records = await readWholeLog(log as SegmentLog, how);
        if (expectedRecords !== undefined && records !== expectedRecords) throw new Error(`read ${records} records, expected ${expectedRecords}`);
      },
      teardown: () => handle.release(),
    };
  });
}
