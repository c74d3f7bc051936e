import type { DurabilityPolicy, Io, RecoveryPolicy, RecoveryReport } from '@keel/core';

/** What a backend can do; the suite runs only what is supported. */
export interface BackendSupports {
  /** Under `{ mode: 'every-write' }` each write returns a promise that resolves once it is durable. */
  everyWrite?: boolean;
  /** `appendBatch` (logs) or `batch` (key-value stores). */
  batch?: boolean;
  /** Open with recovery 'salvage' keeps the valid prefix of a log that is corrupt in the middle. */
  salvage?: boolean;
  /** Files for which `isDerivedFile` is true exist (indexes, snapshots): damage them (fault 13). */
  derivedFiles?: boolean;
  /** Retention that drops records below a position (logs: `deleteBefore`). */
  retention?: boolean;
  /**
   * The record format does not bind a record to its position (the fsys frame: CRC over
   * magic, length and payload only), so a whole frame misdirected onto another frame's
   * place cannot be detected. The suite then counts that case as 'undetectable' instead
   * of failing; every other check still applies.
   */
  positionFreeFrames?: boolean;
  /**
   * Nothing durable records where a sealed segment ends (its length, its last frame, the
   * number of its records), so a write lost at the end of a sealed segment shortens it
   * undetectably, even with acknowledged records in later segments (faults 16 and 17).
   * The suite then counts that case as 'undetectable' instead of failing; a hole inside a
   * file must still be refused.
   */
  unboundSegmentEnds?: boolean;
  /** Run scenarios under durability 'none' too (close does not sync; sync() must still be true). */
  durabilityNone?: boolean;
  /** `open` with `readOnly: true` opens beside a live writer and changes nothing (every keel store does). */
  readOnly?: boolean;
  /**
   * A key-value store whose log frames are not bound to their position: a whole frame
   * written at another offset can replay out of order without failing a check. The suite
   * then does not generate misplaced writes (fault 17) for it; the store's README states
   * the limit. Logs declare `positionFreeFrames` instead, which the log model allows for.
   */
  misplacedFramesUndetectable?: boolean;
  /** `backup(store, target)`: an online, durable, verified copy (every keel store has one). */
  backup?: boolean;
}

export interface AdapterOpenOptions {
  durability: DurabilityPolicy;
  recovery: RecoveryPolicy;
  /** Open read-only (`{ readOnly: true }`): no lock, nothing on disk changes. Adapters pass it through. */
  readOnly?: boolean;
}

/** Multi-file protocols the suite runs, and crashes inside (faults 6 and 12). */
export type ProtocolName = 'roll' | 'seal' | 'compact' | 'snapshot';

export interface AdapterBase<Store> {
  readonly name: string;
  readonly supports: BackendSupports;
  /** Opens (creating when missing) the store kept in `dir` of `io`. */
  open(io: Io, dir: string, options: AdapterOpenOptions): Promise<Store>;
  /** Closes the store; under 'explicit' and 'every-write' this ends with a final sync. */
  close(store: Store): Promise<void>;
  /** Makes everything written so far durable; resolution is the acknowledgement. */
  sync(store: Store): Promise<unknown>;
  recovery(store: Store): RecoveryReport;
  /**
   * `store.backup(...)` into the directory `target` (a single-file store puts its file
   * there under the name its adapter opens). Required when `supports.backup`.
   */
  backup?(store: Store, target: string): Promise<unknown>;
  /** Files the store can rebuild or do without (indexes, snapshots). */
  isDerivedFile?(path: string): boolean;
  readonly protocols?: Partial<Record<ProtocolName, (store: Store) => Promise<unknown> | unknown>>;
  /**
   * Files (by name) whose format carries no store identity: one copied from another store
   * of the same backend, under the same name, reads as this store's own (the journal's
   * fsys frames, the reference log's segments). The hostile-files
   * family counts such a file as 'undetectable' instead of failing; every other file
   * copied from another store must be refused.
   */
  carriesNoStoreIdentity?(name: string): boolean;
  /**
   * Checksummed regions of a file (by its name in the store directory) that are not
   * core frames, which the hostile-files family finds by itself: a fixed header with its
   * own CRC-32C, say. The family sets a field in one to an impossible value and makes the
   * checksum valid again.
   */
  checksummedRegions?(name: string, bytes: Uint8Array): readonly ChecksummedRegion[];
}

/** CRC-32C of bytes [start, end), stored little-endian at `crcAt`; fields lie in [fieldsFrom ?? start, end). */
export interface ChecksummedRegion {
  readonly start: number;
  readonly end: number;
  readonly crcAt: number;
  readonly fieldsFrom?: number;
}

/** A record as a log returns it: its position (offset, LSN, ref…) and its bytes. */
export interface LogRecord {
  position: number;
  payload: Uint8Array;
}

export interface LogAdapter<Store> extends AdapterBase<Store> {
  readonly kind: 'log';
  /** Appends one record; under every-write, a returned promise is that record's acknowledgement. */
  append(store: Store, payload: Uint8Array): unknown;
  appendBatch?(store: Store, payloads: Uint8Array[]): unknown;
  /** Every record from the start of the log, in order, verified. */
  read(store: Store): Promise<LogRecord[]> | LogRecord[];
  /** Drops records below `position` (whole segments at a time is fine). */
  deleteBefore?(store: Store, position: number): Promise<unknown> | unknown;
}

export type KvOperation = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export interface KvAdapter<Store> extends AdapterBase<Store> {
  readonly kind: 'kv';
  put(store: Store, key: string, value: Uint8Array): unknown;
  delete(store: Store, key: string): unknown;
  /** Atomic: after a crash all of it or none of it is visible. */
  batch?(store: Store, operations: KvOperation[]): unknown;
  /** Every live entry, verified. */
  read(store: Store): Promise<Map<string, Uint8Array>> | Map<string, Uint8Array>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BackendAdapter<Store = any> = LogAdapter<Store> | KvAdapter<Store>;
