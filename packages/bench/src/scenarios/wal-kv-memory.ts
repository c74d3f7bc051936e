import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadBackend } from '../backends.js';
import { openClassicLevel } from '../peers/classic-level.js';
import { openLmdb } from '../peers/lmdb.js';
import { createKeyValueTable, openSqlite } from '../peers/sqlite.js';
import { keyFor } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { keyValueKeyCount, sharedKeyValueData, type KeyValuePaths } from './key-value-data.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';

/**
 * Memory per key is measured in a fresh child process per round, so that one store's
 * heap and mappings never count against another: the child records its RSS, opens the
 * store, reads every key once, collects garbage and reports the RSS it grew by.
 */
const PROBE_TIMEOUT_MILLISECONDS = 300_000;
const EXPLICIT = { mode: 'explicit' } as const;
const NO_MAINTENANCE = { checkpointEveryBytes: Number.POSITIVE_INFINITY, compactWhenGarbageRatio: 1 };

export const MEMORY_SYSTEMS = ['keel wal-kv', SYSTEM_LMDB, SYSTEM_CLASSIC_LEVEL, SYSTEM_SQLITE] as const;

type Opened = { get: (key: string) => unknown; close: () => Promise<void> };

/** The stores a probe may open: a data set built for fewer systems leaves the others out. */
type MemoryPaths = Pick<KeyValuePaths, 'keys' | 'keelSnapshot' | 'lmdb'> & Partial<Pick<KeyValuePaths, 'level' | 'sqlite'>>;

function pathOf(paths: MemoryPaths, field: 'level' | 'sqlite'): string {
  const path = paths[field];
  if (path === undefined) throw new Error(`no ${field} store in this data set`);
  return path;
}

async function openForMemory(system: string, paths: MemoryPaths): Promise<() => Promise<Opened>> {
  switch (system) {
    case 'keel wal-kv': {
      const { WalKv } = await loadBackend('wal-kv');
      return async () => {
        const kv = await WalKv.open(paths.keelSnapshot, { durability: EXPLICIT, ...NO_MAINTENANCE });
        return { get: (key) => kv.get(key), close: () => kv.close() };
      };
    }
    case SYSTEM_LMDB:
      return async () => {
        const lmdb = openLmdb(paths.lmdb);
        return { get: (key) => lmdb.get(key), close: () => lmdb.close() };
      };
    case SYSTEM_CLASSIC_LEVEL:
      return async () => {
        const level = await openClassicLevel(pathOf(paths, 'level'), 'utf8');
        return { get: (key) => level.getSync(key), close: () => level.close() };
      };
    case SYSTEM_SQLITE:
      return async () => {
        const sqlite = openSqlite(pathOf(paths, 'sqlite'));
        const table = createKeyValueTable(sqlite);
        return { get: table.get, close: async () => void sqlite.close() };
      };
    default:
      throw new Error(`no memory probe for ${system}`);
  }
}

interface Resident {
  rss: number;
  /** Memory only this process holds: heap, native allocations (an index). */
  anonymous: number;
  /** Pages of mapped files: the page cache, shared with every process and given back under pressure. */
  fileBacked: number;
}

function settledResident(): Resident {
  (globalThis as { gc?: () => void }).gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const line = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: process.memoryUsage().rss, anonymous: line('RssAnon'), fileBacked: line('RssFile') + line('RssShmem') };
}

/**
 * Runs in the child: prints the RSS the open store and one read of every key added, and
 * how it splits into anonymous memory and mapped file pages (from /proc/self/status).
 */
export async function probeMemory(system: string, directoryJson: string, keys: number): Promise<void> {
  const open = await openForMemory(system, JSON.parse(directoryJson) as MemoryPaths);
  const baseline = settledResident();
  const store = await open();
  for (let index = 0; index < keys; index++) if (store.get(keyFor(index)) === undefined) throw new Error(`key ${index} is missing`);
  const after = settledResident();
  await store.close();
  const grown = { rssBytes: after.rss - baseline.rss, anonymousBytes: after.anonymous - baseline.anonymous, fileBackedBytes: after.fileBacked - baseline.fileBacked };
  process.stdout.write(`${JSON.stringify(grown)}\n`);
}

export function memoryProbe(system: string, cliPath: string, paths: MemoryPaths): BenchSystem {
  let split = { anonymousBPerKey: 0, fileBackedBPerKey: 0 };
  return {
    name: system,
    details: () => split,
    async run() {
      const child = spawnSync(process.execPath, ['--expose-gc', cliPath, '--probe-memory', system, JSON.stringify(paths), String(paths.keys)], {
        encoding: 'utf8',
        timeout: PROBE_TIMEOUT_MILLISECONDS,
      });
      if (child.status !== 0) throw new Error(`memory probe of ${system} failed: ${child.stderr.trim().split('\n').pop() ?? child.status}`);
      const grown = JSON.parse(child.stdout.trim().split('\n').pop() as string) as { rssBytes: number; anonymousBytes: number; fileBackedBytes: number };
      split = { anonymousBPerKey: grown.anonymousBytes / paths.keys, fileBackedBPerKey: grown.fileBackedBytes / paths.keys };
      return grown.rssBytes / paths.keys;
    },
  };
}

export const walKvMemoryScenario: Scenario = {
  name: 'wal-kv-memory-per-key',
  backend: 'wal-kv',
  description:
    'RSS growth per key after opening a store of 1M keys and reading each key once (a fresh process per round); details split it into anonymous memory (heap, index) and mapped file pages',
  unit: 'B/key',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  sizing: (quick) => ({ workPerRound: keyValueKeyCount(quick), rounds: quick ? 1 : 2, warmupRounds: 0, ...(quick ? { scaleNote: 'quick run: 20k keys' } : {}) }),
  async systems(context) {
    const cliPath = context.cliPath;
    if (cliPath === undefined) throw new Error('memory per key is measured in child processes of the compiled CLI');
    const paths = await sharedKeyValueData(context, keyValueKeyCount(context.quick));
    return MEMORY_SYSTEMS.map((system) => memoryProbe(system, cliPath, paths));
  },
};
