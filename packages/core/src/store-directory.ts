import { createDirectoryDurably } from './durable-directory.js';
import { KeelError } from './errors.js';
import { GuardedIo } from './guarded-io.js';
import { OverlayIo } from './overlay-io.js';
import type { Io, IoFile } from './io.js';
import { joinPath } from './paths.js';
import { STORE_LOCK_FILE_NAME, lockStoreDirectory } from './store-lock.js';

/** What `openStoreDirectory` hands a backend's recovery, and then its store. */
export interface StoreDirectory {
  readonly dir: string;
  /** The store's Io: every file recovery opens through it stays guarded for the store's life. */
  readonly io: GuardedIo;
  /** The directory lock; null in a read-only open, which takes none. */
  readonly lock: IoFile | null;
  /** In a read-only open, the overlay that holds what recovery changed (in memory only). */
  readonly overlay: OverlayIo | null;
  /** The caller's Io, unguarded and without the overlay (backups write through it). */
  readonly baseIo: Io;
}

export interface OpenStoreDirectoryOptions {
  /**
   * Open beside a live writer: no lock, nothing created, written, cut, renamed or
   * removed on disk. Recovery runs against an `OverlayIo`, so the store sees what a
   * writer's open would make of the files, and its report says what that open would do.
   */
  readOnly?: boolean;
}

/**
 * The opening half of the store protocol for a store that owns a directory: create the
 * directory durably when missing, take its lock (KEEL_LOCKED when another handle has it),
 * then run the backend's `recover`. When recovery refuses, the lock is released and a
 * lock file this open created is removed, so a refused open leaves the directory as it
 * found it.
 */
export async function openStoreDirectory<T>(
  io: Io,
  dir: string,
  recover: (store: StoreDirectory) => Promise<T>,
  options: OpenStoreDirectoryOptions = {},
): Promise<StoreDirectory & { recovered: T }> {
  if (options.readOnly === true) return openReadOnly(io, dir, recover);
  await createDirectoryDurably(io, dir);
  const lockPath = joinPath(dir, STORE_LOCK_FILE_NAME);
  const lockExisted = io.stat(lockPath) !== null;
  const lock = lockStoreDirectory(io, dir);
  const store: StoreDirectory = { dir, io: guardIo(io), lock, overlay: null, baseIo: io };
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

async function openReadOnly<T>(io: Io, dir: string, recover: (store: StoreDirectory) => Promise<T>): Promise<StoreDirectory & { recovered: T }> {
  if (io.stat(dir)?.isDirectory !== true || io.list(dir).every((name) => name === STORE_LOCK_FILE_NAME)) {
    throw new KeelError('KEEL_NOT_FOUND', `${dir} holds no store; a read-only open creates nothing`, { path: dir });
  }
  const overlay = new OverlayIo(io);
  const store: StoreDirectory = { dir, io: guardIo(overlay), lock: null, overlay, baseIo: io };
  try {
    return { ...store, recovered: await recover(store) };
  } catch (error) {
    overlay.close();
    throw error;
  }
}

/** The guarded Io of a store that does not own a directory (the journal's single file). */
export function guardIo(io: Io): GuardedIo {
  return new GuardedIo(io);
}

/**
 * The names of the regular files of a store directory that a backup copies: not the
 * lock, not saved tails (`.torn-…`, kept beside the store for people, not part of it), not
 * the temporaries `isTemporary` names.
 */
export function storeFileNames(io: Io, dir: string, isTemporary: (name: string) => boolean): string[] {
  return io.list(dir).filter((name) => name !== STORE_LOCK_FILE_NAME && !name.includes('.torn-') && !isTemporary(name) && io.stat(joinPath(dir, name))?.isFile === true);
}
