import { join } from 'node:path';
import type { Key, RootDatabase } from 'lmdb';
import { loadBackend } from '../backends.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { keyFor, makePayloads, RECORD_BYTES_SMALL, shuffledIndexes } from '../records.js';
import type { BenchSystem, Scenario, ScenarioContext } from '../types.js';
import { buildOnce } from './shared-data.js';
import { SYSTEM_LMDB } from './peer-systems.js';
import { memoryProbe } from './wal-kv-memory.js';
import { freshMemoryFloor, keelOpener, opener } from './wal-kv-open.js';
import { randomReader } from './random-reader.js';

/**
 * wal-kv at 10M keys, beside lmdb only: the other peers would add minutes of building to
 * every default run, and lmdb is the one wal-kv is held to at 1M. Puts, open after a
 * clean close, random gets and memory per key, each its own scenario.
 */
const EXPLICIT = { mode: 'explicit' } as const;
const BATCH_KEYS = 1000;
const BUILD_BATCH_KEYS = 10_000;
const SYSTEM_KEEL = 'keel wal-kv';

function scaleKeys(quick: boolean): number {
  return quick ? 100_000 : 10_000_000;
}

function scaleNote(quick: boolean): { scaleNote?: string } {
  return quick ? { scaleNote: 'quick run: 100k keys instead of 10M' } : {};
}

interface ScalePaths {
  keys: number;
  /** Closed cleanly: the close wrote a checkpoint of the whole index. */
  keelSnapshot: string;
  lmdb: string;
}

/** `keys` keys with 100-byte values in wal-kv and lmdb, built once per run. */
function sharedScaleData(context: ScenarioContext, keys: number): Promise<ScalePaths> {
  const base = join(context.sharedDirectory, `key-value-scale-${keys}`);
  const paths: ScalePaths = { keys, keelSnapshot: `${base}-keel`, lmdb: `${base}-lmdb` };
  return buildOnce(base, async () => {
    const values = makePayloads(BUILD_BATCH_KEYS, RECORD_BYTES_SMALL, 29);
    const { WalKv } = await loadBackend('wal-kv');
    const kv = await WalKv.open(paths.keelSnapshot, { durability: EXPLICIT });
    const lmdb = openLmdb(paths.lmdb);
    for (let first = 0; first < keys; first += BUILD_BATCH_KEYS) {
      const batchKeys = Array.from({ length: Math.min(BUILD_BATCH_KEYS, keys - first) }, (_, index) => keyFor(first + index));
      const batchValues = values.slice(0, batchKeys.length);
      kv.putBatch(batchKeys.map((key, index) => [key, batchValues[index] as Buffer] as const));
      await kv.sync();
      await lmdbPutBatch(lmdb, batchKeys, batchValues);
    }
    await kv.close();
    await lmdb.close();
    return paths;
  });
}

const putScale: Scenario = {
  name: 'wal-kv-put-10m',
  backend: 'wal-kv',
  description: `puts of 100-byte values in batches of ${BATCH_KEYS}, a sync per batch, into a store growing to 10M keys (lmdb beside it)`,
  unit: 'ops/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({ workPerRound: scaleKeys(quick) / 5, rounds: 4, warmupRounds: 1, ...scaleNote(quick) }),
  async systems(context, sizing) {
    const values = makePayloads(BATCH_KEYS, RECORD_BYTES_SMALL, 31);
    const writer = (name: string, open: () => Promise<{ write: (keys: string[]) => Promise<void>; close: () => Promise<void> }>): BenchSystem => {
      let store: Awaited<ReturnType<typeof open>> | undefined;
      let next = 0;
      return {
        name,
        setup: async () => void (store = await open()),
        async run() {
          for (let done = 0; done < sizing.workPerRound; done += BATCH_KEYS) {
            await store?.write(Array.from({ length: BATCH_KEYS }, () => keyFor(next++)));
          }
        },
        teardown: async () => store?.close(),
      };
    };
    return [
      writer(SYSTEM_KEEL, async () => {
        const { WalKv } = await loadBackend('wal-kv');
        const kv = await WalKv.open(join(context.directory, 'wal-kv'), { durability: EXPLICIT });
        return {
          write: async (keys) => {
            kv.putBatch(keys.map((key, index) => [key, values[index] as Buffer] as const));
            await kv.sync();
          },
          close: () => kv.close(),
        };
      }),
      writer(SYSTEM_LMDB, async () => {
        const lmdb = openLmdb(join(context.directory, 'lmdb'));
        return { write: (keys) => lmdbPutBatch(lmdb, keys, values.slice(0, keys.length)), close: () => lmdb.close() };
      }),
    ];
  },
};

const openScale: Scenario = {
  name: 'wal-kv-open-10m',
  backend: 'wal-kv',
  description: 'open (+ first get) of a store with 10M keys after a clean close; beside it the floor under a load: first touching fresh memory of the index\'s size',
  unit: 'ms',
  measure: 'duration',
  targets: [],
  sizing: (quick) => ({ workPerRound: scaleKeys(quick), rounds: 3, warmupRounds: 1, ...scaleNote(quick) }),
  async systems(context) {
    const paths = await sharedScaleData(context, scaleKeys(context.quick));
    return [
      keelOpener(`${SYSTEM_KEEL} (checkpoint)`, paths.keelSnapshot),
      opener(SYSTEM_LMDB, async () => {
        const lmdb = openLmdb(paths.lmdb);
        return { get: (key) => lmdb.get(key), close: () => lmdb.close() };
      }),
      ...freshMemoryFloor(paths.keelSnapshot),
    ];
  },
};

const getScale: Scenario = {
  name: 'wal-kv-get-10m',
  backend: 'wal-kv',
  description: 'random gets of 100-byte values from a store of 10M keys, warm cache',
  unit: 'ops/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({ workPerRound: 200_000, rounds: 3, warmupRounds: 1, ...scaleNote(quick) }),
  async systems(context, sizing) {
    const paths = await sharedScaleData(context, scaleKeys(context.quick));
    const order = shuffledIndexes(paths.keys);
    const keys = Array.from(order.subarray(0, sizing.workPerRound), (index) => keyFor(index));
    const reader = (name: string, open: Parameters<typeof randomReader>[3]): BenchSystem => randomReader(name, keys, sizing.workPerRound, open);
    return [
      reader(SYSTEM_KEEL, async () => {
        const { WalKv } = await loadBackend('wal-kv');
        const kv = await WalKv.open(paths.keelSnapshot, { durability: EXPLICIT });
        return { get: (key) => kv.get(key), close: () => kv.close() };
      }),
      reader(`${SYSTEM_LMDB} get`, async () => {
        const lmdb: RootDatabase<Buffer, Key> = openLmdb(paths.lmdb);
        return { get: (key) => lmdb.get(key), close: () => lmdb.close() };
      }),
    ];
  },
};

const memoryScale: Scenario = {
  name: 'wal-kv-memory-10m',
  backend: 'wal-kv',
  description: 'RSS growth per key after opening a store of 10M keys and reading each key once (a fresh process per round), split as in wal-kv-memory-per-key',
  unit: 'B/key',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  sizing: (quick) => ({ workPerRound: scaleKeys(quick), rounds: 1, warmupRounds: 0, ...scaleNote(quick) }),
  async systems(context) {
    const cliPath = context.cliPath;
    if (cliPath === undefined) throw new Error('memory per key is measured in child processes of the compiled CLI');
    const paths = await sharedScaleData(context, scaleKeys(context.quick));
    return [SYSTEM_KEEL, SYSTEM_LMDB].map((system) => memoryProbe(system, cliPath, paths));
  },
};

export const WAL_KV_SCALE_SCENARIOS: Scenario[] = [putScale, openScale, getScale, memoryScale];
