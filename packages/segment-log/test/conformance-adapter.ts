import type { LogAdapter, LogRecord } from '@keel/conformance';
import { SegmentLog } from '../src/index.js';

/** Small segments and a dense index so that a short scenario rolls and indexes often. */
const CONFORMANCE_SEGMENT_BYTES = 256;
const CONFORMANCE_INDEX_INTERVAL_BYTES = 64;
/** A fixed clock: timestamps play no part in what the suite checks. */
const CONFORMANCE_NOW_MS = 1_700_000_000_000;
const READ_BYTES = 1 << 20;

interface SegmentLogStore {
  log: SegmentLog;
  everyWrite: boolean;
}

/**
 * The segment log as the conformance suite drives it: a record's position is its offset;
 * under every-write a write's acknowledgement is a sync() made right after it.
 */
export const segmentLogAdapter: LogAdapter<SegmentLogStore> = {
  name: 'segment-log',
  kind: 'log',
  supports: { everyWrite: true, batch: true, salvage: true, derivedFiles: true, retention: true, durabilityNone: true, readOnly: true, backup: true },
  async open(io, dir, options) {
    const log = await SegmentLog.open(dir, {
      io,
      durability: options.durability,
      recovery: options.recovery,
      readOnly: options.readOnly,
      segmentBytes: CONFORMANCE_SEGMENT_BYTES,
      indexIntervalBytes: CONFORMANCE_INDEX_INTERVAL_BYTES,
      now: () => CONFORMANCE_NOW_MS,
    });
    return { log, everyWrite: options.durability.mode === 'every-write' };
  },
  close: (store) => store.log.close(),
  sync: (store) => store.log.sync(),
  recovery: (store) => store.log.recovery,
  backup: (store, target) => store.log.backup(target),
  append(store, payload) {
    store.log.append({ value: payload });
    return store.everyWrite ? store.log.sync() : undefined;
  },
  appendBatch(store, payloads) {
    store.log.appendBatch(payloads.map((value) => ({ value })));
    return store.everyWrite ? store.log.sync() : undefined;
  },
  read(store) {
    const out: LogRecord[] = [];
    for (let offset = store.log.startOffset; offset < store.log.nextOffset; ) {
      const records = store.log.read(offset, { maxBytes: READ_BYTES });
      if (records.length === 0) break;
      for (const record of records) out.push({ position: record.offset, payload: record.value });
      offset = (records[records.length - 1] as { offset: number }).offset + 1;
    }
    return out;
  },
  deleteBefore: (store, position) => store.log.deleteBefore(position),
  isDerivedFile: (path) => path.endsWith('.index') || path.endsWith('.timeindex'),
  protocols: { roll: (store) => store.log.roll() },
};
