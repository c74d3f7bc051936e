import { faultInFreshMemory } from '@keel/core';
import { loadBackend } from '../backends.js';
import { openClassicLevel } from '../peers/classic-level.js';
import { openLmdb } from '../peers/lmdb.js';
import { createKeyValueTable, openSqlite } from '../peers/sqlite.js';
import { keyFor } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { keyValueKeyCount, sharedKeyValueData, type KeyValuePaths } from './key-value-data.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
/** Keeps open from writing a snapshot of its own, so the replay store stays without one. */
const NO_MAINTENANCE = { checkpointEveryBytes: Number.POSITIVE_INFINITY, compactWhenGarbageRatio: 1 };

/**
 * Times open plus the first get (a store is not usable before that), then closes untimed.
 * The details split the open's CPU time (every thread of the process) into user and
 * kernel time and count its minor page faults: the kernel's share is mostly first touches
 * of fresh memory, whose cost per byte this machine does not keep constant (see
 * `freshMemoryFloor`).
 */
export function opener(name: string, open: () => Promise<{ get: (key: string) => unknown; close: () => Promise<void> }>): BenchSystem {
  let details: Record<string, number> = {};
  return {
    name,
    async run() {
      const faults = process.resourceUsage().minorPageFault;
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      const store = await open();
      if (store.get(keyFor(0)) === undefined) throw new Error(`${name}: key 0 is missing after open`);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpu);
      details = { 'user CPU ms': used.user / 1000, 'kernel CPU ms': used.system / 1000, 'minor faults': process.resourceUsage().minorPageFault - faults };
      await store.close();
      return seconds;
    },
    details: () => details,
  };
}

export function keelOpener(name: string, path: string): BenchSystem {
  return opener(name, async () => {
    const { WalKv } = await loadBackend('wal-kv');
    const kv = await WalKv.open(path, { durability: EXPLICIT, ...NO_MAINTENANCE });
    return { get: (key) => kv.get(key), close: () => kv.close() };
  });
}

/**
 * The floor under opening from a checkpoint: first touching as much fresh memory as the
 * opened index holds (its `stats().indexBytes`, in the details), with transparent huge
 * pages asked for as the index asks for them, and with 4 KiB pages. A load cannot take
 * less; what it takes beyond this is reading, checking and placing the entries.
 */
export function freshMemoryFloor(path: string): BenchSystem[] {
  let indexBytes = 0;
  const learnIndexBytes = async (): Promise<void> => {
    if (indexBytes > 0) return;
    const { WalKv } = await loadBackend('wal-kv');
    const kv = await WalKv.open(path, { durability: EXPLICIT, ...NO_MAINTENANCE });
    indexBytes = kv.stats().indexBytes;
    await kv.close();
  };
  const floor = (name: string, hugePages: boolean): BenchSystem => {
    let kernelMs = 0;
    return {
      name,
      setup: learnIndexBytes,
      async run() {
        const cpu = process.cpuUsage();
        const started = process.hrtime.bigint();
        faultInFreshMemory(indexBytes, hugePages);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        kernelMs = process.cpuUsage(cpu).system / 1000;
        return seconds;
      },
      details: () => ({ indexBytes, 'kernel CPU ms': kernelMs, 'kernel ms/MB': kernelMs / (indexBytes / 1e6) }),
    };
  };
  return [floor('fresh memory of the index\'s size (huge pages asked)', true), floor('fresh memory of the index\'s size (4 KiB pages)', false)];
}

function peerOpeners(paths: KeyValuePaths): BenchSystem[] {
  return [
    opener(SYSTEM_LMDB, async () => {
      const lmdb = openLmdb(paths.lmdb);
      return { get: (key) => lmdb.get(key), close: () => lmdb.close() };
    }),
    opener(SYSTEM_CLASSIC_LEVEL, async () => {
      const level = await openClassicLevel(paths.level, 'utf8');
      return { get: (key) => level.getSync(key), close: () => level.close() };
    }),
    opener(SYSTEM_SQLITE, async () => {
      const sqlite = openSqlite(paths.sqlite);
      const table = createKeyValueTable(sqlite);
      return { get: table.get, close: async () => void sqlite.close() };
    }),
  ];
}

export const walKvOpenScenario: Scenario = {
  name: 'wal-kv-open',
  backend: 'wal-kv',
  description: 'open (+ first get) of a store with 1M keys, from an index snapshot and by full log replay; beside them the floor under a load: first touching fresh memory of the index\'s size',
  unit: 'ms',
  measure: 'duration',
  targets: [],
  sizing: (quick) => ({ workPerRound: keyValueKeyCount(quick), rounds: quick ? 2 : 3, warmupRounds: 1, ...(quick ? { scaleNote: 'quick run: 20k keys' } : {}) }),
  async systems(context) {
    const paths = await sharedKeyValueData(context, keyValueKeyCount(context.quick));
    return [keelOpener('keel wal-kv (checkpoint)', paths.keelSnapshot), keelOpener('keel wal-kv (log replay)', paths.keelReplay), ...peerOpeners(paths), ...freshMemoryFloor(paths.keelSnapshot)];
  },
};
