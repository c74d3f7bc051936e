import type { Key, RootDatabase } from 'lmdb';
import { loadBackend, type WalKv } from '../backends.js';
import { openClassicLevel, type LevelDatabase } from '../peers/classic-level.js';
import { openLmdb } from '../peers/lmdb.js';
import { keyFor, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { keyValueKeyCount, sharedKeyValueData } from './key-value-data.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
/** classic-level hands entries over in batches of this many (its fastest path). */
const LEVEL_BATCH_ENTRIES = 1000;

/** A range over the shared store: the whole key space, or the middle half of it. */
interface Bounds {
  gte?: string;
  lt?: string;
}

/** One system walking the range (forward or reverse) each round, reading every key and value. */
function walker(name: string, expected: number, open: () => Promise<{ walk: () => Promise<number>; close: () => Promise<void> }>): BenchSystem {
  let store: Awaited<ReturnType<typeof open>> | undefined;
  return {
    name,
    setup: async () => void (store = await open()),
    async run() {
      const seen = await store!.walk();
      // lmdb's reverse bounds are not exactly abstract-level's: allow the one boundary key.
      if (Math.abs(seen - expected) > 1) throw new Error(`${name}: walked ${seen} entries, expected ${expected}`);
    },
    teardown: async () => store?.close(),
  };
}

/** The first call's promise, shared by every later call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** Walks `entries`, checking every value; returns how many there were. */
function countValues<T>(entries: Iterable<T>, valueOf: (entry: T) => Uint8Array | undefined): number {
  let seen = 0;
  for (const entry of entries) {
    checkValue(valueOf(entry));
    seen++;
  }
  return seen;
}

function checkValue(value: Uint8Array | undefined): void {
  if (value?.length !== RECORD_BYTES_SMALL) throw new Error('a value is missing');
}

function rangeScenario(name: string, description: string, bounded: boolean): Scenario {
  return {
    name,
    backend: 'wal-kv',
    description,
    unit: 'ops/s',
    measure: 'throughput',
    targets: [
      { kind: 'ratio-at-least', system: `${SYSTEM_LMDB} getRange`, factor: 1 },
      { kind: 'ratio-at-least', system: `${SYSTEM_CLASSIC_LEVEL} iterator`, factor: 3 },
    ],
    sizing: (quick) => {
      const keys = keyValueKeyCount(quick);
      return { workPerRound: bounded ? keys / 2 : keys, rounds: quick ? 2 : 3, warmupRounds: 1, ...(quick ? { scaleNote: 'quick run: 20k keys' } : {}) };
    },
    async systems(context, sizing) {
      const paths = await sharedKeyValueData(context, keyValueKeyCount(context.quick));
      const bounds: Bounds = bounded ? { gte: keyFor(paths.keys / 4), lt: keyFor((paths.keys * 3) / 4) } : {};
      const expected = sizing.workPerRound;
      // Each store is opened once and walked both ways (a second open would meet its lock).
      const keel = once(async () => {
        const { WalKv } = await loadBackend('wal-kv');
        return (await WalKv.open(paths.keelSnapshot, { durability: EXPLICIT })) as WalKv;
      });
      const lmdbStore = once(async () => openLmdb(paths.lmdb) as RootDatabase<Buffer, Key>);
      const levelStore = once(async (): Promise<LevelDatabase> => openClassicLevel(paths.level, 'utf8'));
      return [false, true].flatMap((reverse) => {
        const direction = reverse ? ' reverse' : '';
        return [
          walker(`keel wal-kv entries${direction}`, expected, async () => {
            const kv = await keel();
            return { walk: async () => countValues(kv.entries({ ...bounds, reverse }), ([, value]) => value), close: () => kv.close() };
          }),
          walker(`${SYSTEM_LMDB} getRange${direction}`, expected, async () => {
            const lmdb = await lmdbStore();
            const options = reverse ? { start: bounds.lt, end: bounds.gte, reverse } : { start: bounds.gte, end: bounds.lt };
            return { walk: async () => countValues(lmdb.getRange(options), ({ value }) => value), close: () => lmdb.close() };
          }),
          walker(`${SYSTEM_CLASSIC_LEVEL} iterator${direction}`, expected, async () => {
            const level = await levelStore();
            return {
              async walk() {
                let seen = 0;
                const iterator = level.iterator({ ...bounds, reverse });
                try {
                  for (let batch = await iterator.nextv(LEVEL_BATCH_ENTRIES); batch.length > 0; batch = await iterator.nextv(LEVEL_BATCH_ENTRIES)) {
                    for (const [, value] of batch) checkValue(value);
                    seen += batch.length;
                  }
                } finally {
                  await iterator.close();
                }
                return seen;
              },
              close: async () => void (level.status === 'open' && (await level.close())),
            };
          }),
        ];
      });
    },
  };
}

export const walKvRangeScenario = rangeScenario('wal-kv-range', 'iteration of every key and value of a 1M-key store in key order, forward and reverse', false);
export const walKvRangeBoundedScenario = rangeScenario('wal-kv-range-bounded', 'iteration of the middle half (gte / lt bounds) of a 1M-key store, forward and reverse', true);
