import { createDirectoryDurably } from './durable-directory.js';
import { GuardedIo } from './guarded-io.js';
import type { Io, IoFile } from './io.js';
import { joinPath } from './paths.js';
import { STORE_LOCK_FILE_NAME, lockStoreDirectory } from './store-lock.js';

/** What `openStoreDirectory` hands a backend's recovery, and then its store. */
export interface StoreDirectory {
  readonly dir: string;
  /** The store's Io: every file recovery opens through it stays guarded for the store's life. */
  readonly io: GuardedIo;
  readonly lock: IoFile;
}

/**
 * The opening half of the store protocol for a store that owns a directory: create the
 * directory durably when missing, take its lock (KEEL_LOCKED when another handle has it),
 * then run the backend's `recover`. When recovery refuses, the lock is released and a
 * lock file this open created is removed, so a refused open leaves the directory as it
 * found it.
 */
export async function openStoreDirectory<T>(io: Io, dir: string, recover: (store: StoreDirectory) => Promise<T>): Promise<StoreDirectory & { recovered: T }> {
  await createDirectoryDurably(io, dir);
  const lockPath = joinPath(dir, STORE_LOCK_FILE_NAME);
  const lockExisted = io.stat(lockPath) !== null;
  const lock = lockStoreDirectory(io, dir);
  const store: StoreDirectory = { dir, io: guardIo(io), lock };
  try {
    return { ...store, recovered: await recover(store) };
  } catch (error) {
    // Unlink while still holding the lock, so no other open can be using the file. A
    // failed unlink is not reported: the refusal is what the caller needs to see, and a
    // lock file left behind is harmless (the next open reuses it).
    if (!lockExisted) {
      try {
        io.remove(lockPath);
      } catch {
        // See above.
      }
    }
    lock.closeSync();
    throw error;
  }
}

/** The guarded Io of a store that does not own a directory (the journal's single file). */
export function guardIo(io: Io): GuardedIo {
  return new GuardedIo(io);
}
