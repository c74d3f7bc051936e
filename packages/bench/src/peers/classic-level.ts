import { ClassicLevel } from 'classic-level';

export type LevelDatabase = ClassicLevel<Buffer | string, Buffer>;

/** LevelDB through classic-level with binary values; writes are made durable per call with `{ sync: true }`. */
export async function openClassicLevel(path: string, keyEncoding: 'buffer' | 'utf8' = 'buffer'): Promise<LevelDatabase> {
  const database = new ClassicLevel<Buffer | string, Buffer>(path, { keyEncoding, valueEncoding: 'buffer' });
  await database.open();
  return database;
}

export const SYNC = { sync: true } as const;

export async function levelPutBatch(database: LevelDatabase, keys: readonly (Buffer | string)[], values: readonly Buffer[]): Promise<void> {
  const operations = keys.map((key, index) => ({ type: 'put' as const, key, value: values[index] as Buffer }));
  await database.batch(operations, SYNC);
}
