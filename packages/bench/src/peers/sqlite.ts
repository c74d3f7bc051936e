import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * SQLite through better-sqlite3 in WAL mode with `synchronous = FULL`, so that a
 * committed transaction has been fsynced; one transaction per batch.
 */
export function openSqlite(path: string): SqliteDatabase {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  return database;
}

/** A log table: sequence number and value, the shape a log stored in SQLite takes. */
export function createLogTable(database: SqliteDatabase): (rows: readonly Uint8Array[], firstSequence: number) => void {
  database.exec('create table if not exists log (sequence integer primary key, value blob not null)');
  const insert = database.prepare('insert into log (sequence, value) values (?, ?)');
  return database.transaction((rows: readonly Uint8Array[], firstSequence: number) => {
    for (let index = 0; index < rows.length; index++) insert.run(firstSequence + index, rows[index]);
  });
}

/** A key-value table with a text primary key, stored WITHOUT ROWID as an index-organised table. */
export function createKeyValueTable(database: SqliteDatabase): {
  putBatch: (keys: readonly string[], values: readonly Uint8Array[]) => void;
  get: (key: string) => Buffer | undefined;
} {
  database.exec('create table if not exists kv (key text primary key, value blob not null) without rowid');
  const upsert = database.prepare('insert or replace into kv (key, value) values (?, ?)');
  const select = database.prepare('select value from kv where key = ?').pluck();
  const putBatch = database.transaction((keys: readonly string[], values: readonly Uint8Array[]) => {
    for (let index = 0; index < keys.length; index++) upsert.run(keys[index], values[index]);
  });
  return { putBatch, get: (key) => select.get(key) as Buffer | undefined };
}
