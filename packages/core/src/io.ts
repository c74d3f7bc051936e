/**
 * The file-system interface every backend uses. A backend never touches disk any other
 * way: the default implementation (`nativeIo`) is backed by @keel/native, and the
 * conformance suite swaps in a FaultFs that records every write and sync so that it can
 * materialise any state a crash could leave behind. Everything the suite proves rests on
 * this rule.
 *
 * Contract for implementations:
 * - every method throws a KeelError (see `fromSystemError`) on failure;
 * - `*Sync` methods complete before returning; the others return promises that settle on
 *   the libuv threadpool (native) so that the event loop never waits on a disk;
 * - a write is visible to later reads at once, but durable only after a successful
 *   `datasync`/`fsync` of that file, and a new, renamed or removed directory entry is
 *   durable only after `syncDir` of its parent.
 */
export type Advice = 'normal' | 'sequential' | 'random' | 'willneed' | 'dontneed';

export interface IoOpenOptions {
  /** Open for writing as well as reading. */
  write?: boolean;
  /** Create the file when it does not exist (implies write). */
  create?: boolean;
  /** Fail with KEEL_IO/EEXIST when the file exists (implies create). */
  createNew?: boolean;
  /** Truncate to zero length on open. */
  truncate?: boolean;
  /** Take an exclusive advisory lock; a conflict throws KEEL_LOCKED. */
  lock?: boolean;
  /** Ask for O_DIRECT; falls back (reported by `isDirect`) where refused. */
  direct?: boolean;
}

export interface IoStat {
  size: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** How many bytes of an `IoFile.copyRangeFrom` each method moved; they add up to the bytes copied. */
export interface CopiedBytes {
  /** Shared with the source (a reflink: copy-on-write blocks, nothing read or written). */
  reflink: number;
  /** Copied inside the kernel (copy_file_range), which may share blocks or copy server-side itself. */
  copyFileRange: number;
  /** Read into memory and written out again. */
  readWrite: number;
}

/** How a file's own sync thread waits for work (see `IoFile.useSyncThread`). */
export interface SyncThreadOptions {
  spinMicroseconds?: number;
}

/** Longest spin `useSyncThread` accepts: past it, waking a parked thread costs less than the spin burns. */
export const SYNC_THREAD_SPIN_MICROSECONDS_MAX = 1000;

export interface IoFile {
  readonly path: string;
  readonly isDirect: boolean;
  /** Why O_DIRECT is not in effect although it was asked for, else null. */
  readonly directFallback: string | null;
  writeSync(data: Uint8Array, position: number): void;
  writevSync(buffers: readonly Uint8Array[], position: number): void;
  write(data: Uint8Array, position: number): Promise<void>;
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** Reads into `into`; returns the bytes read, fewer than asked only at end of file. */
  readSync(into: Uint8Array, position: number): number;
  read(into: Uint8Array, position: number): Promise<number>;
  sizeSync(): number;
  setLengthSync(length: number): void;
  datasyncSync(): void;
  /**
   * Optional: `writeSync(data, position)` then `datasyncSync()` as one operation, where an
   * Io can do both for less than the two calls cost (the native Io: one crossing into the
   * addon instead of two). Nothing is synced when the write fails. A caller without it, or
   * a wrapper that must see the write and the sync apart, makes the two calls.
   */
  writeDatasyncSync?(data: Uint8Array, position: number): void;
  datasync(): Promise<void>;
  fsync(): Promise<void>;
  /**
   * Optional: from now on `datasync` and `fsync` of this handle run on an OS thread of its
   * own rather than on the shared threadpool, until `closeSync`: for a file synced one
   * small write at a time, where the hop to a pooled thread and back is a large part of
   * each sync. They stay this handle's `datasync` and `fsync`, with the same results and
   * errors. The first call starts the thread; later ones change nothing. The thread parks
   * between syncs unless `spinMicroseconds` (0 to 1000, default 0) says how long it first
   * watches for the next request, burning up to that much CPU per sync. Returns whether
   * the handle now syncs that way: false for an Io without it, a closed handle, or when
   * no thread could be started (the syncs then stay where they were).
   */
  useSyncThread?(options?: SyncThreadOptions): boolean;
  /** Reserves space without changing the size; false when the file system cannot. */
  preallocateSync(offset: number, length: number): boolean;
  adviseSync(offset: number, length: number, advice: Advice): void;
  /**
   * A read-only view of bytes that exist and will not be truncated away while the view
   * lives (sealed data only: a mapping over bytes a truncate removes is SIGBUS).
   */
  mapSync(offset: number, length: number): Uint8Array;
  closeSync(): void;
  /**
   * Optional: copies `length` bytes at `sourcePosition` of `source` to `position` of this
   * file without passing them through JavaScript — a reflink where the file system shares
   * blocks, else a copy inside the kernel. Resolves to what each method moved (less than
   * `length` in all only where the source ends), or to null when it cannot copy from that
   * source (another Io's file, or bytes held in memory): the caller then reads and writes.
   * The copy is a write to this file: visible at once, durable only after `datasync`.
   * `source` must be another file. An Io without it is copied with `read` and `write`.
   */
  copyRangeFrom?(source: IoFile, sourcePosition: number, length: number, position: number): Promise<CopiedBytes | null>;
  /**
   * Optional: the file that holds bytes `[position, position + length)` of this one on
   * disk, as this handle reads them, or null when some of them live elsewhere (in
   * memory). A file that reads the disk itself returns itself; a wrapper returns its inner
   * file's answer. This is how `copyRangeFrom` reaches a source through wrappers.
   */
  backingFile?(position: number, length: number): IoFile | null;
}

export interface Io {
  open(path: string, options?: IoOpenOptions): IoFile;
  stat(path: string): IoStat | null;
  /** Entry names in `dir`, sorted. */
  list(dir: string): string[];
  /** Creates `dir` and its missing parents. */
  mkdir(dir: string): void;
  remove(path: string): void;
  /**
   * Optional: `remove` off the event loop (native: on the threadpool). Unlinking a large
   * file frees its cached pages and its blocks, which can take tens of milliseconds. An
   * Io without it is removed from with `remove` (see `removeIfPresentAsync`).
   */
  removeAsync?(path: string): Promise<void>;
  /** Atomic rename; durable only after `syncDir` of the parents. */
  rename(from: string, to: string): void;
  /**
   * Optional: `rename`, then a sync of the target's directory (and of the source's, when
   * another), all off the event loop (native: on the threadpool). Resolves once the new
   * name is durable. An Io without it is renamed with `rename` and `syncDir` (see
   * `renameDurably`).
   */
  renameDurable?(from: string, to: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
  syncDirSync(dir: string): void;
  /**
   * Optional: calls `onChange` when the file or directory at `path` may have changed (a
   * notification, never a read). Followers use it to wake early; they poll anyway, so an
   * Io without it (or a notification that never comes) only makes them slower.
   */
  watch?(path: string, onChange: () => void): { close(): void };
}
