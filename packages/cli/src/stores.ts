import type { BackupOptions, BackupReport, RecoveryPolicy, RecoveryReport } from '@keel/core';
import { Journal } from '@keel/journal';
import { PayloadStore } from '@keel/payload-store';
import { SegmentLog } from '@keel/segment-log';
import { WalKv } from '@keel/wal-kv';
import type { BackendName } from './detect.js';

export interface OpenOptions {
  readOnly: boolean;
  recovery?: RecoveryPolicy;
}

/** One record as `dump` prints it: where it is, and its bytes (plus what the backend keeps beside them). */
export interface DumpRecord {
  position: Record<string, number | string>;
  value: Uint8Array;
  key?: Uint8Array | null;
  timestamp?: number;
  headers?: [string, Uint8Array][];
}

export interface DumpRange {
  /** First position (LSN, offset, payload ordinal; a key for wal-kv). */
  from?: string;
  /** Stop before this position. */
  to?: string;
  limit?: number;
}

/** What every command needs of a store, whichever backend holds it. */
export interface StoreView {
  readonly backend: BackendName;
  readonly recovery: RecoveryReport;
  /** The store's shape: counts, positions, time range, files, what recovery would do. */
  shape(): Record<string, unknown>;
  /** Reads everything, checking every checksum (and index); `progress` gets done/total in the backend's units. */
  verify(progress: (done: number, total: number) => void): Promise<{ records: number }>;
  records(range: DumpRange): AsyncIterable<DumpRecord>;
  /** The store's online backup: a durable, verified copy at `target`; `options.onProgress` follows the copy in bytes. */
  backup(target: string, options?: BackupOptions): Promise<BackupReport>;
  close(): Promise<void>;
}

export async function openStore(backend: BackendName, path: string, options: OpenOptions): Promise<StoreView> {
  switch (backend) {
    case 'journal':
      return journalView(await Journal.open(path, { readOnly: options.readOnly, recovery: options.recovery }));
    case 'segment-log':
      return segmentLogView(await SegmentLog.open(path, { readOnly: options.readOnly, recovery: options.recovery }));
    case 'payload-store':
      return payloadStoreView(await PayloadStore.open(path, { readOnly: options.readOnly, recovery: options.recovery }));
    case 'wal-kv':
      return walKvView(await WalKv.open<Uint8Array>(path, { readOnly: options.readOnly, recovery: options.recovery, keyEncoding: 'binary', valueEncoding: 'binary' }));
  }
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative integer for this backend, got ${value}`);
  return parsed;
}

function journalView(journal: Journal): StoreView {
  return {
    backend: 'journal',
    recovery: journal.recovery,
    shape() {
      let records = 0;
      let first: number | null = null;
      let last: number | null = null;
      for (const record of journal.records()) {
        records++;
        first ??= record.lsn;
        last = record.lsn;
      }
      return { file: journal.path, bytes: journal.nextLsn, records, firstLsn: first, lastLsn: last };
    },
    async verify(progress) {
      let records = 0;
      for (const record of journal.records()) {
        records++;
        if (records % 4096 === 0) progress(record.lsn, journal.nextLsn);
      }
      progress(journal.nextLsn, journal.nextLsn);
      return { records };
    },
    async *records(range) {
      const from = integer(range.from, 'from');
      const to = integer(range.to, 'to') ?? Number.MAX_SAFE_INTEGER;
      let count = 0;
      for (const record of journal.records({ from })) {
        if (record.lsn >= to || count >= (range.limit ?? Infinity)) return;
        count++;
        yield { position: { lsn: record.lsn }, value: record.payload };
      }
    },
    backup: (target, options) => journal.backup(target, options),
    close: () => journal.close(),
  };
}

function segmentLogView(log: SegmentLog): StoreView {
  return {
    backend: 'segment-log',
    recovery: log.recovery,
    shape() {
      const segments = log.segments();
      const stamps = segments.filter((segment) => segment.minTimestamp !== null);
      return {
        segments: segments.length,
        sealedSegments: segments.filter((segment) => segment.sealed).length,
        bytes: segments.reduce((sum, segment) => sum + segment.bytes, 0),
        records: log.nextOffset - log.startOffset,
        startOffset: log.startOffset,
        nextOffset: log.nextOffset,
        minTimestamp: stamps.length === 0 ? null : Math.min(...stamps.map((segment) => segment.minTimestamp as number)),
        maxTimestamp: stamps.length === 0 ? null : Math.max(...stamps.map((segment) => segment.maxTimestamp as number)),
        segmentList: segments,
      };
    },
    async verify(progress) {
      progress(0, 1);
      const report = await log.verify();
      progress(1, 1);
      return { records: report.records };
    },
    async *records(range) {
      const from = integer(range.from, 'from') ?? log.startOffset;
      const to = integer(range.to, 'to') ?? Number.MAX_SAFE_INTEGER;
      let count = 0;
      for await (const record of log.stream({ from })) {
        if (record.offset >= to || count >= (range.limit ?? Infinity)) return;
        count++;
        yield { position: { offset: record.offset }, timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers };
      }
    },
    backup: (target, options) => log.backup(target, options),
    close: () => log.close(),
  };
}

function payloadStoreView(store: PayloadStore): StoreView {
  return {
    backend: 'payload-store',
    recovery: store.recovery,
    shape() {
      const stats = store.stats();
      const segments = store.segments();
      return { segments: segments.length, activeSegment: stats.activeSegment, bytes: stats.diskBytes, pendingCompaction: stats.pendingCompaction, segmentList: segments };
    },
    async verify(progress) {
      const total = store.stats().diskBytes;
      let records = 0;
      let done = 0;
      for (const { payload } of store.scan()) {
        records++;
        done += payload.length;
        if (records % 4096 === 0) progress(Math.min(done, total), total);
      }
      progress(total, total);
      return { records };
    },
    async *records(range) {
      const from = integer(range.from, 'from') ?? 0;
      const to = integer(range.to, 'to') ?? Number.MAX_SAFE_INTEGER;
      let index = 0;
      let count = 0;
      for (const { ref, payload } of store.scan()) {
        if (index >= to || count >= (range.limit ?? Infinity)) return;
        if (index++ < from) continue;
        count++;
        yield { position: { index: index - 1, segment: ref.segment, offset: ref.offset }, value: payload };
      }
    },
    backup: (target, options) => store.backup(target, options),
    close: () => store.close(),
  };
}

function walKvView(kv: WalKv<Uint8Array>): StoreView {
  return {
    backend: 'wal-kv',
    recovery: kv.recovery,
    shape() {
      const { generation, keys, lastSeq, logBytes, deadBytes, garbageRatio, checkpointPosition } = kv.stats();
      return { generation, keys, lastSeq, logBytes, deadBytes, garbageRatio, checkpointPosition };
    },
    async verify(progress) {
      const total = kv.size;
      let records = 0;
      for (const _entry of kv.entries()) {
        records++;
        if (records % 4096 === 0) progress(records, total);
      }
      progress(total, total);
      return { records };
    },
    async *records(range) {
      const from = range.from === undefined ? null : Buffer.from(range.from, 'utf8');
      const to = range.to === undefined ? null : Buffer.from(range.to, 'utf8');
      let count = 0;
      for (const [key, value] of kv.entries()) {
        const bytes = key as Uint8Array;
        if (from !== null && Buffer.compare(bytes, from) < 0) continue;
        if ((to !== null && Buffer.compare(bytes, to) >= 0) || count >= (range.limit ?? Infinity)) return;
        count++;
        yield { position: { key: Buffer.from(bytes).toString('utf8') }, key: bytes, value };
      }
    },
    backup: (target, options) => kv.backup(target, options),
    close: () => kv.close(),
  };
}
