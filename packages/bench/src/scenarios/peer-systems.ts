import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Key, RootDatabase } from 'lmdb';
import { levelPutBatch, openClassicLevel, SYNC, type LevelDatabase } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { RawFsLog } from '../peers/raw-fs.js';
import { createLogTable, openSqlite, type SqliteDatabase } from '../peers/sqlite.js';
import { sequenceKey } from '../records.js';
import type { BenchSystem, ScenarioSizing } from '../types.js';
import type { PairedVariant } from './paired-rounds.js';

/**
 * The peers doing what a durable log append is: a batch of records made durable with
 * one sync. KV stores key each record by its sequence number; every round writes new
 * keys, so a store grows over the rounds as a log does.
 */
export const SYSTEM_RAW_FS = 'node:fs';
export const SYSTEM_LMDB = 'lmdb';
export const SYSTEM_CLASSIC_LEVEL = 'classic-level';
export const SYSTEM_SQLITE = 'better-sqlite3';

/** Another name and file for a second node:fs system in one scenario. */
export interface RawFsVariant {
  name: string;
  file: string;
  /** Bytes of the file written and synced before the first batch, which the batches then overwrite (see RawFsLog). */
  prewrittenBytes?: number;
}

/** What a node:fs system writes over a whole run of `batches` a round (warm-up included): the bytes for it to pre-write. */
export function bytesPerRun(sizing: ScenarioSizing, batches: readonly (readonly Uint8Array[])[]): number {
  const perRound = batches.reduce((sum, batch) => sum + batch.reduce((bytes, payload) => bytes + payload.length, 0), 0);
  return (sizing.warmupRounds + sizing.rounds) * perRound;
}

/** `sync`: writeSync + fdatasyncSync per batch; `async`: writeSync + `fs.fdatasync` on the threadpool. */
export function rawFsBatchAppender(directory: string, batches: readonly (readonly Uint8Array[])[], variant?: RawFsVariant, mode: 'sync' | 'async' = 'sync'): BenchSystem {
  let log: RawFsLog | undefined;
  return {
    name: variant?.name ?? (mode === 'sync' ? SYSTEM_RAW_FS : `${SYSTEM_RAW_FS} async fdatasync`),
    async setup() {
      log = new RawFsLog(directory, variant?.file ?? (mode === 'sync' ? 'raw.log' : 'raw-async.log'), variant?.prewrittenBytes);
    },
    async run() {
      if (mode === 'sync') for (const batch of batches) log?.appendBatchDurably(batch);
      else for (const batch of batches) await log?.appendBatchDurablyAsync(batch);
    },
    async teardown() {
      log?.close();
    },
  };
}

/** lmdb as a log: each batch put under the next sequence numbers in one durable transaction. */
class LmdbLog {
  #database: RootDatabase<Buffer, Key>;
  #sequence = 0;

  constructor(readonly path: string) {
    this.#database = openLmdb(path);
  }

  append(batch: readonly Uint8Array[]): Promise<unknown> {
    const keys = batch.map(() => this.#sequence++);
    return lmdbPutBatch(this.#database, keys, batch);
  }

  async close(): Promise<void> {
    await this.#database.close();
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function lmdbBatchAppender(directory: string, batches: readonly (readonly Uint8Array[])[]): BenchSystem {
  let log: LmdbLog | undefined;
  return {
    name: SYSTEM_LMDB,
    async setup() {
      log = new LmdbLog(join(directory, 'lmdb'));
    },
    async run() {
      for (const batch of batches) await log?.append(batch);
    },
    async teardown() {
      await log?.close();
    },
  };
}

/** lmdb making one batch durable per call, for paired rounds. */
export function lmdbPairedVariant(directory: string, batch: readonly Uint8Array[]): PairedVariant {
  return batchLogVariant(SYSTEM_LMDB, () => new LmdbLog(join(directory, 'lmdb-paired')), batch);
}

export function levelBatchAppender(directory: string, batches: readonly (readonly Uint8Array[])[]): BenchSystem {
  let database: LevelDatabase | undefined;
  let sequence = 0;
  const path = join(directory, 'classic-level');
  return {
    name: SYSTEM_CLASSIC_LEVEL,
    async setup() {
      database = await openClassicLevel(path);
    },
    async run() {
      for (const batch of batches) {
        const keys = batch.map(() => sequenceKey(sequence++));
        await levelPutBatch(database as LevelDatabase, keys, batch as Buffer[]);
      }
    },
    async teardown() {
      await database?.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** better-sqlite3 as a log: each batch inserted under the next sequence numbers in one transaction, durable at its commit (see `openSqlite`). */
class SqliteLog {
  #database: SqliteDatabase;
  #insertBatch: (rows: readonly Uint8Array[], firstSequence: number) => void;
  #sequence = 0;

  constructor(path: string) {
    this.#database = openSqlite(path);
    this.#insertBatch = createLogTable(this.#database);
  }

  append(batch: readonly Uint8Array[]): void {
    this.#insertBatch(batch, this.#sequence);
    this.#sequence += batch.length;
  }

  close(): void {
    this.#database.close();
  }
}

export function sqliteBatchAppender(directory: string, batches: readonly (readonly Uint8Array[])[]): BenchSystem {
  let log: SqliteLog | undefined;
  return {
    name: SYSTEM_SQLITE,
    async setup() {
      log = new SqliteLog(join(directory, 'sqlite.db'));
    },
    async run() {
      for (const batch of batches) log?.append(batch);
    },
    async teardown() {
      log?.close();
    },
  };
}

/** better-sqlite3 making one batch durable per call, for paired rounds. */
export function sqlitePairedVariant(directory: string, batch: readonly Uint8Array[]): PairedVariant {
  return batchLogVariant(SYSTEM_SQLITE, () => new SqliteLog(join(directory, 'sqlite-paired.db')), batch);
}

/** A peer used as a log (`LmdbLog`, `SqliteLog`). */
interface BatchLog {
  append(batch: readonly Uint8Array[]): Promise<unknown> | void;
  close(): Promise<void> | void;
}

/** A paired variant appending `batch`, durably, to the log `open` makes at setup. */
function batchLogVariant(name: string, open: () => BatchLog, batch: readonly Uint8Array[]): PairedVariant {
  let log: BatchLog | undefined;
  return {
    name,
    setup: async () => void (log = open()),
    once: () => log?.append(batch),
    teardown: async () => void (await log?.close()),
  };
}

/** Writers that each await durability of every record before writing the next. */
export async function runWriters(writers: number, recordsPerWriter: number, write: (writer: number, record: number) => Promise<unknown>): Promise<void> {
  const loops: Promise<void>[] = [];
  for (let writer = 0; writer < writers; writer++) {
    loops.push(
      (async () => {
        for (let record = 0; record < recordsPerWriter; record++) await write(writer, record);
      })(),
    );
  }
  await Promise.all(loops);
}

export function lmdbConcurrentWriters(directory: string, writers: number, recordsPerWriter: number, payload: Buffer): BenchSystem {
  let database: RootDatabase<Buffer, Key> | undefined;
  let sequence = 0;
  const path = join(directory, 'lmdb-concurrent');
  return {
    name: SYSTEM_LMDB,
    async setup() {
      database = openLmdb(path);
    },
    async run() {
      await runWriters(writers, recordsPerWriter, () => (database as RootDatabase<Buffer, Key>).put(sequence++, payload));
    },
    async teardown() {
      await database?.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export function levelConcurrentWriters(directory: string, writers: number, recordsPerWriter: number, payload: Buffer): BenchSystem {
  let database: LevelDatabase | undefined;
  let sequence = 0;
  const path = join(directory, 'classic-level-concurrent');
  return {
    name: SYSTEM_CLASSIC_LEVEL,
    async setup() {
      database = await openClassicLevel(path);
    },
    async run() {
      await runWriters(writers, recordsPerWriter, () => (database as LevelDatabase).put(sequenceKey(sequence++), payload, SYNC));
    },
    async teardown() {
      await database?.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** node:fs writing each batch as one buffer and making it durable, as a variant of paired rounds (see paired-rounds.ts). */
export function rawFsPairedVariant(name: string, directory: string, file: string, payloads: readonly Uint8Array[], mode: 'sync' | 'async'): PairedVariant {
  let raw: RawFsLog | undefined;
  return {
    name,
    setup: async () => void (raw = new RawFsLog(directory, file)),
    once: () => (mode === 'sync' ? raw?.appendBatchDurably(payloads) : raw?.appendBatchDurablyAsync(payloads)),
    teardown: async () => raw?.close(),
  };
}
