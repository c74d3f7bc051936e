import { join } from 'node:path';
import { loadBackend, type PayloadRef, type PayloadStore } from '../backends.js';
import { openClassicLevel } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { openSqlite } from '../peers/sqlite.js';
import { makePayloads, RECORD_BYTES_KIBIBYTE, RECORD_BYTES_PAGE, sequenceKey, shuffledIndexes } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { compaction } from './payload-store-compact.js';
import { PAYLOAD_STORE_APPEND_PAIRED_SCENARIO } from './payload-store-paired.js';
import { levelBatchAppender, lmdbBatchAppender, rawFsBatchAppender, sqliteBatchAppender, SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_RAW_FS, SYSTEM_SQLITE } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const APPEND_BATCH_PAYLOADS = 256;
const BUILD_BATCH_PAYLOADS = 4096;

async function openStore(directory: string): Promise<PayloadStore> {
  const { PayloadStore } = await loadBackend('payload-store');
  return PayloadStore.open(directory, { durability: EXPLICIT });
}

/** keel appending the batches, each made durable by `sync()` (fdatasync on the threadpool) or by `syncSync()` (on the calling thread). */
function keelBatchAppender(directory: string, batches: readonly (readonly Uint8Array[])[], mode: 'sync' | 'syncSync'): BenchSystem {
  let store: PayloadStore | undefined;
  return {
    name: mode === 'sync' ? 'keel payload-store' : 'keel payload-store syncSync',
    setup: async () => void (store = await openStore(join(directory, `payload-store-${mode}`))),
    async run() {
      const opened = store as PayloadStore;
      for (const batch of batches) {
        opened.appendBatch(batch);
        if (mode === 'sync') await opened.sync();
        else opened.syncSync();
      }
    },
    teardown: async () => store?.close(),
  };
}

const append4k: Scenario = {
  name: 'payload-store-append-4k',
  backend: 'payload-store',
  description: `appends of 4 KiB payloads, ${APPEND_BATCH_PAYLOADS} per batch (1 MiB), a sync per batch; keel and node:fs each with the fdatasync on the threadpool and on the calling thread`,
  unit: 'MB/s',
  measure: 'throughput',
  // The pace against node:fs is held in payload-store-append-4k-paired, where the systems
  // take turns batch by batch: here, in rounds of 24 batches, it moved by 25 % between runs.
  targets: [],
  countSyncs: true,
  sizing: (quick) => ({ workPerRound: (quick ? 4 : 24) * APPEND_BATCH_PAYLOADS * RECORD_BYTES_PAGE, rounds: quick ? 2 : 5, warmupRounds: 1 }),
  async systems(context, sizing) {
    const payloads = makePayloads(APPEND_BATCH_PAYLOADS, RECORD_BYTES_PAGE);
    const batches = Array.from({ length: sizing.workPerRound / (APPEND_BATCH_PAYLOADS * RECORD_BYTES_PAGE) }, () => payloads);
    return [
      keelBatchAppender(context.directory, batches, 'sync'),
      rawFsBatchAppender(context.directory, batches),
      rawFsBatchAppender(context.directory, batches, undefined, 'async'),
      keelBatchAppender(context.directory, batches, 'syncSync'),
      lmdbBatchAppender(context.directory, batches),
      levelBatchAppender(context.directory, batches),
      sqliteBatchAppender(context.directory, batches),
    ];
  },
};

/** The same 1 KiB payloads in keel (sealed segments) and in each peer keyed by index. */
async function loadReadData(directory: string, payloads: readonly Buffer[]) {
  const store = await openStore(join(directory, 'payload-store'));
  const lmdb = openLmdb(join(directory, 'lmdb'));
  const level = await openClassicLevel(join(directory, 'classic-level'));
  const sqlite = openSqlite(join(directory, 'sqlite.db'));
  const refs: PayloadRef[] = [];
  sqlite.exec('create table payloads (id integer primary key, value blob not null)');
  const insert = sqlite.prepare('insert into payloads (id, value) values (?, ?)');
  const insertBatch = sqlite.transaction((first: number, batch: readonly Buffer[]) => batch.forEach((value, index) => insert.run(first + index, value)));
  for (let first = 0; first < payloads.length; first += BUILD_BATCH_PAYLOADS) {
    const batch = payloads.slice(first, first + BUILD_BATCH_PAYLOADS);
    refs.push(...store.appendBatch(batch));
    const keys = batch.map((_, index) => first + index);
    await lmdbPutBatch(lmdb, keys, batch);
    await level.batch(keys.map((key, index) => ({ type: 'put' as const, key: sequenceKey(key), value: batch[index] as Buffer })));
    insertBatch(first, batch);
  }
  await store.sync();
  store.seal();
  return { store, lmdb, level, sqlite, refs };
}

const randomRead: Scenario = {
  name: 'payload-store-random-read',
  backend: 'payload-store',
  description: 'random reads of 1 KiB payloads from sealed segments, warm cache',
  unit: 'ops/s',
  measure: 'throughput',
  targets: [{ kind: 'ratio-at-least', system: SYSTEM_LMDB, factor: 2 }],
  sizing: (quick) => ({
    workPerRound: quick ? 20_000 : 100_000,
    rounds: quick ? 2 : 3,
    warmupRounds: 1,
    scaleNote: quick ? 'quick run: 10k payloads (10 MiB)' : '100k payloads (100 MiB) in the store',
  }),
  async systems(context, sizing) {
    const payloadCount = context.quick ? 10_000 : 100_000;
    const order = shuffledIndexes(payloadCount);
    // Loaded here, before any setup, so that every system reads the same data already on disk.
    const data = await loadReadData(context.directory, makePayloads(payloadCount, RECORD_BYTES_KIBIBYTE));
    const levelKeys = Array.from({ length: payloadCount }, (_, index) => sequenceKey(index));
    const select = data.sqlite.prepare('select value from payloads where id = ?').pluck();
    const reader = (name: string, read: (index: number) => Uint8Array | undefined, close: () => Promise<void>): BenchSystem => ({
      name,
      async run() {
        for (let done = 0; done < sizing.workPerRound; done++) {
          if (read(order[done % payloadCount] as number)?.length !== RECORD_BYTES_KIBIBYTE) throw new Error(`${name}: a payload is missing`);
        }
      },
      teardown: close,
    });
    return [
      reader('keel payload-store', (index) => data.store.read(data.refs[index] as PayloadRef), () => data.store.close()),
      reader(`${SYSTEM_LMDB} getBinary`, (index) => data.lmdb.getBinary(index), () => data.lmdb.close()),
      reader(`${SYSTEM_CLASSIC_LEVEL} getSync`, (index) => data.level.getSync(levelKeys[index] as Buffer), () => data.level.close()),
      reader(`${SYSTEM_SQLITE} select`, (index) => select.get(index) as Buffer | undefined, async () => void data.sqlite.close()),
    ];
  },
};

export const PAYLOAD_STORE_SCENARIOS: Scenario[] = [append4k, PAYLOAD_STORE_APPEND_PAIRED_SCENARIO, randomRead, compaction];
