import { join } from 'node:path';
import type { Key, RootDatabase } from 'lmdb';
import { loadBackend, type WalKv } from '../backends.js';
import { openClassicLevel, SYNC, type LevelDatabase } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { createKeyValueTable, openSqlite, type SqliteDatabase } from '../peers/sqlite.js';
import { keyFor, makePayloads, RECORD_BYTES_KIBIBYTE, RECORD_BYTES_SMALL, shuffledIndexes } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { keyValueKeyCount, sharedKeyValueData } from './key-value-data.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';
import { walKvDeleteScenario } from './wal-kv-delete.js';
import { walKvMemoryScenario } from './wal-kv-memory.js';
import { walKvOpenScenario } from './wal-kv-open.js';
import { walKvMaintenanceScenario } from './wal-kv-maintenance.js';
import { walKvRangeBoundedScenario, walKvRangeScenario } from './wal-kv-range.js';
import { WAL_KV_SCALE_SCENARIOS } from './wal-kv-scale.js';
import { randomReader, type GetStore } from './random-reader.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_KEYS = 1000;

/** A system that writes the pre-built batches of the next round on each run. */
function batchWriter(name: string, rounds: readonly (readonly string[][])[], open: () => Promise<{ write: (keys: string[]) => Promise<void>; close: () => Promise<void> }>): BenchSystem {
  let store: Awaited<ReturnType<typeof open>> | undefined;
  let round = 0;
  return {
    name,
    setup: async () => void (store = await open()),
    async run() {
      for (const batch of rounds[round++ % rounds.length] as string[][]) await store?.write(batch);
    },
    teardown: async () => store?.close(),
  };
}

const putBatch: Scenario = {
  name: 'wal-kv-put-batch',
  backend: 'wal-kv',
  description: `puts of 100-byte values in batches of ${BATCH_KEYS}, a sync per batch, into a store growing to 1M+ keys`,
  unit: 'ops/s',
  measure: 'throughput',
  targets: [
    { kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 2 },
    { kind: 'ratio-at-least', system: SYSTEM_CLASSIC_LEVEL, factor: 2 },
    { kind: 'ratio-at-least', system: SYSTEM_SQLITE, factor: 2 },
  ],
  sizing: (quick) => ({
    workPerRound: (quick ? 5 : 200) * BATCH_KEYS,
    rounds: quick ? 2 : 4,
    warmupRounds: 1,
    ...(quick ? { scaleNote: 'quick run: 15k puts in all' } : { scaleNote: '1M puts per system in all: one warm-up round and four measured rounds of 200k; syncs not counted (one explicit sync per batch by construction, as in segment-log-append-batch)' }),
  }),
  async systems(context, sizing) {
    const values = makePayloads(BATCH_KEYS, RECORD_BYTES_SMALL, 17);
    const batchesPerRound = sizing.workPerRound / BATCH_KEYS;
    const rounds = Array.from({ length: sizing.rounds + sizing.warmupRounds }, (_, round) =>
      Array.from({ length: batchesPerRound }, (_, batch) => Array.from({ length: BATCH_KEYS }, (_, index) => keyFor((round * batchesPerRound + batch) * BATCH_KEYS + index))),
    );
    const directory = context.directory;
    return [
      batchWriter('keel wal-kv', rounds, async () => {
        const { WalKv } = await loadBackend('wal-kv');
        const kv = await WalKv.open(join(directory, 'wal-kv'), { durability: EXPLICIT });
        return {
          // Keys and values as two arrays, as lmdb and better-sqlite3 are handed them below.
          write: async (keys) => {
            kv.putBatch(keys, values);
            await kv.sync();
          },
          close: () => kv.close(),
        };
      }),
      // The same puts with no sync at all: the CPU ceiling of keel's put path, for reading the ratios.
      batchWriter('keel wal-kv (no sync: CPU only)', rounds, async () => {
        const { WalKv } = await loadBackend('wal-kv');
        const kv = await WalKv.open(join(directory, 'wal-kv-no-sync'), { durability: { mode: 'none' } });
        return {
          write: async (keys) => void kv.putBatch(keys, values),
          close: () => kv.close(),
        };
      }),
      batchWriter(SYSTEM_LMDB, rounds, async () => {
        const lmdb = openLmdb(join(directory, 'lmdb'));
        return { write: (keys) => lmdbPutBatch(lmdb, keys, values), close: () => lmdb.close() };
      }),
      batchWriter(SYSTEM_CLASSIC_LEVEL, rounds, async () => {
        const level = await openClassicLevel(join(directory, 'classic-level'), 'utf8');
        return {
          write: (keys) => level.batch(keys.map((key, index) => ({ type: 'put' as const, key, value: values[index] as Buffer })), SYNC),
          close: () => level.close(),
        };
      }),
      batchWriter(SYSTEM_SQLITE, rounds, async () => {
        const sqlite = openSqlite(join(directory, 'sqlite.db'));
        const table = createKeyValueTable(sqlite);
        return { write: async (keys) => table.putBatch(keys, values), close: async () => void sqlite.close() };
      }),
    ];
  },
};

/**
 * Random gets over a store of 1M keys with `valueBytes`-byte values: `get` (a copy the
 * caller keeps) against lmdb's `get`, and the zero-copy reads side by side (wal-kv
 * `getView` against lmdb `getBinaryFast`, both valid only until the next call).
 */
function getRandomScenario(name: string, valueBytes: number, valueLabel: string): Scenario {
  return {
    name,
    backend: 'wal-kv',
    description: `random gets of ${valueLabel} values from a store of 1M keys, warm cache; wal-kv getView beside lmdb getBinaryFast`,
    unit: 'ops/s',
    measure: 'throughput',
    targets: [{ kind: 'ratio-at-least', system: `${SYSTEM_LMDB} get`, factor: 1.5 }],
    sizing: (quick) => ({
      workPerRound: quick ? 20_000 : 200_000,
      rounds: quick ? 2 : 3,
      warmupRounds: 1,
      ...(quick ? { scaleNote: 'quick run: 20k keys' } : {}),
    }),
    async systems(context, sizing) {
      const paths = await sharedKeyValueData(context, keyValueKeyCount(context.quick), valueBytes);
      const order = shuffledIndexes(paths.keys);
      const keys = Array.from(order, (index) => keyFor(index));
      const reader = (system: string, open: () => Promise<GetStore>): BenchSystem => randomReader(system, keys, sizing.workPerRound, open, valueBytes);
      // Both wal-kv readers share one open store (a store is locked to one opener).
      let store: Promise<WalKv> | undefined;
      let users = 0;
      const openWalKv = async (): Promise<WalKv> => {
        users++;
        return (store ??= loadBackend('wal-kv').then(({ WalKv }) => WalKv.open(paths.keelSnapshot, { durability: EXPLICIT })));
      };
      const closeWalKv = async (): Promise<void> => {
        if (--users === 0) await (await store)?.close();
      };
      return [
        reader('keel wal-kv', async () => {
          const kv = await openWalKv();
          return { get: (key) => kv.get(key), close: closeWalKv };
        }),
        reader('keel wal-kv getView (zero-copy)', async () => {
          const kv = await openWalKv();
          return { get: (key) => kv.getView(key), close: closeWalKv };
        }),
        reader(`${SYSTEM_LMDB} get`, async () => {
          const lmdb: RootDatabase<Buffer, Key> = openLmdb(paths.lmdb);
          return { get: (key) => lmdb.get(key), close: () => lmdb.close() };
        }),
        reader(`${SYSTEM_LMDB} getBinaryFast`, async () => {
          const lmdb: RootDatabase<Buffer, Key> = openLmdb(paths.lmdb);
          return { get: (key) => lmdb.getBinaryFast(key), close: () => lmdb.close() };
        }),
        reader(`${SYSTEM_CLASSIC_LEVEL} getSync`, async () => {
          const level: LevelDatabase = await openClassicLevel(paths.level, 'utf8');
          return { get: (key) => level.getSync(key), close: () => level.close() };
        }),
        reader(`${SYSTEM_SQLITE} select`, async () => {
          const sqlite: SqliteDatabase = openSqlite(paths.sqlite);
          const table = createKeyValueTable(sqlite);
          return { get: table.get, close: async () => void sqlite.close() };
        }),
      ];
    },
  };
}

const getRandom = getRandomScenario('wal-kv-get-random', RECORD_BYTES_SMALL, '100-byte');
const getRandom1k = getRandomScenario('wal-kv-get-random-1k', RECORD_BYTES_KIBIBYTE, '1 KiB');

export const WAL_KV_SCENARIOS: Scenario[] = [putBatch, walKvDeleteScenario, getRandom, getRandom1k, walKvOpenScenario, walKvMemoryScenario, walKvRangeScenario, walKvRangeBoundedScenario, walKvMaintenanceScenario, ...WAL_KV_SCALE_SCENARIOS];
