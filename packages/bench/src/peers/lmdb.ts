import { open, type Database, type Key, type RootDatabase } from 'lmdb';

/**
 * lmdb with the durability keel offers: `overlappingSync: false`, so a resolved put has
 * been synced (its default resolves before the flush). Binary values; puts made in one
 * event turn share one synced transaction, which is lmdb's own group commit.
 */
export function openLmdb(path: string): RootDatabase<Buffer, Key> {
  return open<Buffer, Key>({ path, overlappingSync: false, encoding: 'binary', compression: false });
}

/** Puts every pair in one batched transaction and waits until it is synced. */
export async function lmdbPutBatch(database: Database<Buffer, Key>, keys: readonly Key[], values: readonly Uint8Array[]): Promise<void> {
  await database.batch(() => {
    for (let index = 0; index < keys.length; index++) void database.put(keys[index] as Key, values[index] as Buffer);
  });
}
