import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '../backends.js';
import { openClassicLevel } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { createKeyValueTable, openSqlite } from '../peers/sqlite.js';
import { keyFor, makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { ScenarioContext } from '../types.js';
import { buildOnce } from './shared-data.js';

const BUILD_BATCH_KEYS = 10_000;
const EXPLICIT = { mode: 'explicit' } as const;

/** Where each system's copy of the same key-value data lives. */
export interface KeyValuePaths {
  keys: number;
  /** keel wal-kv whose latest index snapshot covers the whole log. */
  keelSnapshot: string;
  /** The same log without any snapshot: open replays every record. */
  keelReplay: string;
  lmdb: string;
  level: string;
  sqlite: string;
}

export function keyValueKeyCount(quick: boolean): number {
  return quick ? 20_000 : 1_000_000;
}

/** `keys` keys with `valueBytes`-byte values (100 unless told) in every system, built (and closed) once per run. */
export function sharedKeyValueData(context: ScenarioContext, keys: number, valueBytes = RECORD_BYTES_SMALL): Promise<KeyValuePaths> {
  const base = join(context.sharedDirectory, valueBytes === RECORD_BYTES_SMALL ? `key-value-${keys}` : `key-value-${keys}-${valueBytes}b`);
  const paths: KeyValuePaths = {
    keys,
    keelSnapshot: `${base}-keel-snapshot`,
    keelReplay: `${base}-keel-replay`,
    lmdb: `${base}-lmdb`,
    level: `${base}-classic-level`,
    sqlite: `${base}-sqlite.db`,
  };
  return buildOnce(base, async () => {
    const values = makePayloads(BUILD_BATCH_KEYS, valueBytes, 13);
    const { WalKv } = await loadBackend('wal-kv');
    const kv = await WalKv.open(paths.keelReplay, { durability: EXPLICIT, checkpointEveryBytes: Number.POSITIVE_INFINITY, compactWhenGarbageRatio: 1 });
    const lmdb = openLmdb(paths.lmdb);
    const level = await openClassicLevel(paths.level, 'utf8');
    const sqlite = openSqlite(paths.sqlite);
    const table = createKeyValueTable(sqlite);
    for (let first = 0; first < keys; first += BUILD_BATCH_KEYS) {
      const batchKeys = Array.from({ length: Math.min(BUILD_BATCH_KEYS, keys - first) }, (_, index) => keyFor(first + index));
      const batchValues = values.slice(0, batchKeys.length);
      kv.putBatch(batchKeys.map((key, index) => [key, batchValues[index] as Buffer] as const));
      await lmdbPutBatch(lmdb, batchKeys, batchValues);
      await level.batch(batchKeys.map((key, index) => ({ type: 'put' as const, key, value: batchValues[index] as Buffer })));
      table.putBatch(batchKeys, batchValues);
    }
    await kv.sync();
    await kv.close();
    await lmdb.close();
    await level.close();
    sqlite.close();
    cpSync(paths.keelReplay, paths.keelSnapshot, { recursive: true });
    const snapshotted = await WalKv.open(paths.keelSnapshot, { durability: EXPLICIT });
    await snapshotted.checkpoint();
    await snapshotted.close();
    return paths;
  });
}
