/**
 * The keel backends, loaded through their public package entry points only. The bench
 * declares the slice of each public API it calls (as the issues name it) instead of
 * importing the packages' types, so that it builds and its peer-only scenarios run while
 * a backend is still being written; a backend that cannot be loaded turns its scenarios
 * into "skipped" lines, not a failed run.
 */

export type Durability = { mode: 'none' } | { mode: 'explicit' } | { mode: 'every-write' };

export interface Journal {
  append(payload: Uint8Array): number;
  appendBatch(payloads: readonly Uint8Array[]): number;
  syncThrough(lsn: number): Promise<unknown>;
  sync(): Promise<number>;
  syncSync(): number;
  records(options?: { from?: number }): Iterable<{ lsn: number; payload: Uint8Array }>;
  readonly nextLsn: number;
  close(): Promise<void>;
}
export interface JournalModule {
  Journal: { open(path: string, options?: { durability?: Durability; preallocate?: number; direct?: boolean }): Promise<Journal> };
}

export interface SegmentLogRecord {
  offset: number;
  timestamp: number;
  key?: Uint8Array | null;
  value: Uint8Array;
}
export interface SegmentLog {
  append(record: { value: Uint8Array; key?: Uint8Array; timestamp?: number }): number;
  appendBatch(records: readonly { value: Uint8Array; key?: Uint8Array; timestamp?: number }[]): number;
  sync(): Promise<number>;
  read(offset: number, options?: { maxBytes?: number; maxRecords?: number }): SegmentLogRecord[];
  offsetForTimestamp(timestamp: number): number | undefined;
  deleteBefore(offset: number): Promise<number>;
  readonly nextOffset: number;
  close(): Promise<void>;
}
export interface SegmentLogModule {
  SegmentLog: { open(directory: string, options?: { durability?: Durability; segmentBytes?: number }): Promise<SegmentLog> };
}

export interface PayloadRef {
  segment: number;
  offset: number;
  length: number;
}
export interface CompactionPlan {
  mapping: Map<string, PayloadRef>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
export interface PayloadStore {
  append(payload: Uint8Array): PayloadRef;
  appendBatch(payloads: readonly Uint8Array[]): PayloadRef[];
  sync(): Promise<unknown>;
  read(ref: PayloadRef): Uint8Array;
  seal(): unknown;
  compact(liveRefs: Iterable<PayloadRef>, options?: { seal?: unknown }): Promise<CompactionPlan>;
  close(): Promise<void>;
}
export interface PayloadStoreModule {
  PayloadStore: { open(directory: string, options?: { durability?: Durability; segmentBytes?: number }): Promise<PayloadStore> };
}

export interface WalKv {
  put(key: string | Uint8Array, value: Uint8Array): number;
  putBatch(entries: readonly (readonly [string | Uint8Array, Uint8Array])[]): number;
  batch(operations: readonly ({ type: 'put'; key: string | Uint8Array; value: Uint8Array } | { type: 'del'; key: string | Uint8Array })[]): number;
  get(key: string | Uint8Array): Uint8Array | undefined;
  sync(): Promise<number>;
  snapshot(): Promise<unknown>;
  readonly size: number;
  close(): Promise<void>;
}
export interface WalKvOptions {
  durability?: Durability;
  snapshotEveryBytes?: number;
  compactWhenGarbageRatio?: number;
  valueEncoding?: 'binary';
}
export interface WalKvModule {
  WalKv: { open(directory: string, options?: WalKvOptions): Promise<WalKv> };
}

interface BackendModules {
  journal: JournalModule;
  'segment-log': SegmentLogModule;
  'payload-store': PayloadStoreModule;
  'wal-kv': WalKvModule;
}

const EXPORT_NAMES: { [name in keyof BackendModules]: string } = {
  journal: 'Journal',
  'segment-log': 'SegmentLog',
  'payload-store': 'PayloadStore',
  'wal-kv': 'WalKv',
};

/** Loads `@keel/<name>`; throws when it is missing or does not export its store class yet. */
export async function loadBackend<Name extends keyof BackendModules>(name: Name): Promise<BackendModules[Name]> {
  // A computed specifier keeps the compiler from resolving the package's own types.
  const specifier = `@keel/${name}`;
  const loaded = (await import(specifier)) as Record<string, unknown>;
  const exportName = EXPORT_NAMES[name];
  if (typeof loaded[exportName] !== 'function') throw new Error(`${specifier} does not export ${exportName} yet`);
  return loaded as unknown as BackendModules[Name];
}
