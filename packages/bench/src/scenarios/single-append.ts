import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Key, RootDatabase } from 'lmdb';
import { openClassicLevel, SYNC, type LevelDatabase } from '../peers/classic-level.js';
import { openLmdb } from '../peers/lmdb.js';
import { RawFsLog } from '../peers/raw-fs.js';
import { openSqlite, type SqliteDatabase } from '../peers/sqlite.js';
import { sequenceKey } from '../records.js';
import type { BenchSystem } from '../types.js';
import { SYSTEM_CLASSIC_LEVEL, SYSTEM_LMDB, SYSTEM_RAW_FS, SYSTEM_SQLITE } from './peer-systems.js';

/** Each peer writing one record and waiting for it to be durable before the next. */
export function singleDurableAppenders(directory: string, records: number, payload: Buffer): BenchSystem[] {
  let raw: RawFsLog | undefined;
  let lmdb: RootDatabase<Buffer, Key> | undefined;
  let level: LevelDatabase | undefined;
  let sqlite: SqliteDatabase | undefined;
  let insert: ((sequence: number) => void) | undefined;
  let sequence = 0;
  const lmdbPath = join(directory, 'lmdb-single');
  const levelPath = join(directory, 'classic-level-single');
  return [
    {
      name: SYSTEM_RAW_FS,
      setup: async () => void (raw = new RawFsLog(directory, 'raw-single.log')),
      run: async () => {
        for (let index = 0; index < records; index++) raw?.appendDurably(payload);
      },
      teardown: async () => raw?.close(),
    },
    {
      name: SYSTEM_LMDB,
      setup: async () => void (lmdb = openLmdb(lmdbPath)),
      run: async () => {
        for (let index = 0; index < records; index++) await lmdb?.put(sequence++, payload);
      },
      teardown: async () => {
        await lmdb?.close();
        rmSync(lmdbPath, { recursive: true, force: true });
      },
    },
    {
      name: SYSTEM_CLASSIC_LEVEL,
      setup: async () => void (level = await openClassicLevel(levelPath)),
      run: async () => {
        for (let index = 0; index < records; index++) await level?.put(sequenceKey(sequence++), payload, SYNC);
      },
      teardown: async () => {
        await level?.close();
        rmSync(levelPath, { recursive: true, force: true });
      },
    },
    {
      name: SYSTEM_SQLITE,
      setup: async () => {
        sqlite = openSqlite(join(directory, 'sqlite-single.db'));
        sqlite.exec('create table log (sequence integer primary key, value blob not null)');
        const statement = sqlite.prepare('insert into log (sequence, value) values (?, ?)');
        insert = (next) => void statement.run(next, payload);
      },
      run: async () => {
        // Autocommit: every insert is its own transaction, fsynced under synchronous = FULL.
        for (let index = 0; index < records; index++) insert?.(sequence++);
      },
      teardown: async () => void sqlite?.close(),
    },
  ];
}
