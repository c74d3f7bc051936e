import { InterceptedFile } from './intercepted-io.js';
import type { IoFile, Io } from './io.js';
import { joinPath } from './paths.js';

/** The lock file of every store that owns a directory (LevelDB's and RocksDB's name). */
export const STORE_LOCK_FILE_NAME = 'LOCK';

/**
 * A store directory's lock. The lock file alone is not enough: unlinking it while a store
 * is open lets the next open create a new file and lock that, and two writers share the
 * directory. So the directory itself is locked too (flock on the directory's own
 * descriptor, which no unlink can take away); the lock file stays for the people and
 * tools that look for it. Returns the lock file's handle; closing it releases both.
 * A conflict on either throws KEEL_LOCKED and leaves nothing held.
 */
export function lockStoreDirectory(io: Io, dir: string): IoFile {
  const file = io.open(joinPath(dir, STORE_LOCK_FILE_NAME), { create: true, lock: true });
  let directory: IoFile;
  try {
    directory = io.open(dir, { lock: true });
  } catch (error) {
    file.closeSync();
    throw error;
  }
  return new StoreLockFile(file, directory);
}

class StoreLockFile extends InterceptedFile {
  readonly #directory: IoFile;

  constructor(file: IoFile, directory: IoFile) {
    super(file, (_operation, run) => run(), (_operation, run) => run());
    this.#directory = directory;
  }

  override closeSync(): void {
    try {
      super.closeSync();
    } finally {
      this.#directory.closeSync();
    }
  }
}
