import { join } from 'node:path';
import { loadBackend } from '../backends.js';
import { openClassicLevel, SYNC } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { createKeyValueTable, openSqlite } from '../peers/sqlite.js';
import { keyFor, makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_KEYS = 1000;

interface Deleter {
  load: (keys: string[], values: readonly Buffer[]) => Promise<void>;
  remove: (keys: string[]) => Promise<void>;
  close: () => Promise<void>;
}

/** Loads every key the rounds will delete (not timed), then each round deletes the next slice in synced batches. */
function deleter(name: string, rounds: readonly string[][][], open: () => Promise<Deleter>): BenchSystem {
  const values = makePayloads(BATCH_KEYS, RECORD_BYTES_SMALL, 19);
  let store: Deleter | undefined;
  let round = 0;
  return {
    name,
    async setup() {
      store = await open();
      for (const batches of rounds) for (const keys of batches) await store.load(keys, values);
    },
    async run() {
      for (const keys of rounds[round++ % rounds.length] as string[][]) await store?.remove(keys);
    },
    teardown: async () => store?.close(),
  };
}

export const walKvDeleteScenario: Scenario = {
  name: 'wal-kv-delete-batch',
  backend: 'wal-kv',
  description: `deletes of present keys in batches of ${BATCH_KEYS}, a sync per batch`,
  unit: 'ops/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({
    workPerRound: (quick ? 5 : 50) * BATCH_KEYS,
    rounds: quick ? 2 : 5,
    warmupRounds: 1,
    scaleNote: quick ? 'quick run: 15k keys loaded and deleted' : '300k keys loaded (not timed), 50k deleted per round',
  }),
  async systems(context, sizing) {
    const batchesPerRound = sizing.workPerRound / BATCH_KEYS;
    const rounds = Array.from({ length: sizing.rounds + sizing.warmupRounds }, (_, round) =>
      Array.from({ length: batchesPerRound }, (_, batch) => Array.from({ length: BATCH_KEYS }, (_, index) => keyFor((round * batchesPerRound + batch) * BATCH_KEYS + index))),
    );
    const directory = context.directory;
    return [
      deleter('keel wal-kv', rounds, async () => {
        const { WalKv } = await loadBackend('wal-kv');
        const kv = await WalKv.open(join(directory, 'wal-kv-delete'), { durability: EXPLICIT });
        return {
          load: async (keys, values) => {
            kv.putBatch(keys, values);
            await kv.sync();
          },
          remove: async (keys) => {
            kv.deleteBatch(keys);
            await kv.sync();
          },
          close: () => kv.close(),
        };
      }),
      deleter(SYSTEM_LMDB, rounds, async () => {
        const lmdb = openLmdb(join(directory, 'lmdb-delete'));
        return {
          load: (keys, values) => lmdbPutBatch(lmdb, keys, values),
          remove: async (keys) => void (await lmdb.batch(() => keys.forEach((key) => void lmdb.remove(key)))),
          close: () => lmdb.close(),
        };
      }),
      deleter(SYSTEM_CLASSIC_LEVEL, rounds, async () => {
        const level = await openClassicLevel(join(directory, 'classic-level-delete'), 'utf8');
        return {
          load: (keys, values) => level.batch(keys.map((key, index) => ({ type: 'put' as const, key, value: values[index] as Buffer }))),
          remove: (keys) => level.batch(keys.map((key) => ({ type: 'del' as const, key })), SYNC),
          close: () => level.close(),
        };
      }),
      deleter(SYSTEM_SQLITE, rounds, async () => {
        const sqlite = openSqlite(join(directory, 'sqlite-delete.db'));
        const table = createKeyValueTable(sqlite);
        const statement = sqlite.prepare('delete from kv where key = ?');
        const removeBatch = sqlite.transaction((keys: readonly string[]) => keys.forEach((key) => statement.run(key)));
        return { load: async (keys, values) => table.putBatch(keys, values), remove: async (keys) => removeBatch(keys), close: async () => void sqlite.close() };
      }),
    ];
  },
};
