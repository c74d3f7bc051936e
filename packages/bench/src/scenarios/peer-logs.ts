import { join } from 'node:path';
import type { Key, RootDatabase } from 'lmdb';
import { openClassicLevel, type LevelDatabase } from '../peers/classic-level.js';
import { lmdbPutBatch, openLmdb } from '../peers/lmdb.js';
import { openSqlite, type SqliteDatabase } from '../peers/sqlite.js';
import { makePayloads, RECORD_BYTES_SMALL, sequenceKey, TIMESTAMP_BASE_MS } from '../records.js';
import type { BenchSystem, ScenarioContext } from '../types.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_SQLITE } from './peer-systems.js';
import { buildOnce, onRunEnd } from './shared-data.js';

const BUILD_BATCH_RECORDS = 10_000;

/** The peers holding the same log as a segment-log read scenario: sequence → 100-byte value, with a timestamp in SQLite. */
export interface PeerLogs {
  lmdb: RootDatabase<Buffer, Key>;
  level: LevelDatabase;
  sqlite: SqliteDatabase;
  sqliteOffsetForTimestamp: (timestamp: number) => number | undefined;
}

export function sharedPeerLogs(context: ScenarioContext, records: number): Promise<PeerLogs> {
  const directory = context.sharedDirectory;
  return buildOnce(`peer-logs-${records}`, async () => {
    const lmdb = openLmdb(join(directory, `lmdb-log-${records}`));
    const level = await openClassicLevel(join(directory, `level-log-${records}`));
    const sqlite = openSqlite(join(directory, `sqlite-log-${records}.db`));
    sqlite.exec('create table log (sequence integer primary key, timestamp integer not null, value blob not null)');
    const insert = sqlite.prepare('insert into log (sequence, timestamp, value) values (?, ?, ?)');
    const values = makePayloads(BUILD_BATCH_RECORDS, RECORD_BYTES_SMALL, 5);
    const insertBatch = sqlite.transaction((first: number, count: number) => {
      for (let index = 0; index < count; index++) insert.run(first + index, TIMESTAMP_BASE_MS + first + index, values[index]);
    });
    for (let first = 0; first < records; first += BUILD_BATCH_RECORDS) {
      const count = Math.min(BUILD_BATCH_RECORDS, records - first);
      const keys = Array.from({ length: count }, (_, index) => first + index);
      await lmdbPutBatch(lmdb, keys, values.slice(0, count));
      await level.batch(keys.map((key, index) => ({ type: 'put' as const, key: sequenceKey(key), value: values[index] as Buffer })));
      insertBatch(first, count);
    }
    sqlite.exec('create index log_timestamp on log (timestamp)');
    const lookup = sqlite.prepare('select sequence from log where timestamp >= ? order by timestamp limit 1').pluck();
    onRunEnd(async () => {
      await lmdb.close();
      await level.close();
      sqlite.close();
    });
    return { lmdb, level, sqlite, sqliteOffsetForTimestamp: (timestamp: number) => lookup.get(timestamp) as number | undefined };
  });
}

function expectCount(system: string, counted: number, expected: number): void {
  if (counted !== expected) throw new Error(`${system} read ${counted} records, expected ${expected}`);
}

/** Each peer reading every record in sequence order, values included. */
export function peerRangeReaders(peers: PeerLogs, records: number): BenchSystem[] {
  const select = peers.sqlite.prepare('select sequence, value from log where sequence >= ?').raw();
  return [
    {
      name: `${SYSTEM_LMDB} getRange`,
      async run() {
        let counted = 0;
        for (const entry of peers.lmdb.getRange({ start: 0 })) counted += entry.value.length > 0 ? 1 : 0;
        expectCount(SYSTEM_LMDB, counted, records);
      },
    },
    {
      name: `${SYSTEM_CLASSIC_LEVEL} iterator`,
      async run() {
        let counted = 0;
        const iterator = peers.level.iterator();
        for (let entries = await iterator.nextv(1000); entries.length > 0; entries = await iterator.nextv(1000)) counted += entries.length;
        await iterator.close();
        expectCount(SYSTEM_CLASSIC_LEVEL, counted, records);
      },
    },
    {
      name: `${SYSTEM_SQLITE} select`,
      async run() {
        let counted = 0;
        for (const row of select.iterate(0)) counted += (row as unknown[]).length > 0 ? 1 : 0;
        expectCount(SYSTEM_SQLITE, counted, records);
      },
    },
  ];
}
