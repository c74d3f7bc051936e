import { createDirectoryDurably } from './durable-directory.js';
import { renameDurably } from './durable-file.js';
import { KeelError } from './errors.js';
import type { CopiedBytes, Io, IoFile } from './io.js';
import { joinPath, parentDir } from './paths.js';
import { isRepair, type RecoveryReport } from './recovery.js';
import { allocReadMemory, placedView } from './read-placement.js';
import { assertPath } from './validate.js';

/** One file of a store as a backup copies it: its first `length` bytes, under `name`. */
export interface BackupSource {
  /** Opened when the backup began: bytes below `length` never change after that, and an unlink does not take them away. */
  readonly file: IoFile;
  /** The name in the copy (for a single-file store, ignored). */
  readonly name: string;
  readonly length: number;
}

export interface BackupReport {
  /** Where the copy is. */
  readonly target: string;
  readonly files: number;
  readonly bytes: number;
  /** How the bytes were copied: shared by reflink, copied in the kernel, or read and written. */
  readonly copiedBy: CopiedBytes;
}

/** How far a backup's copy has come, in bytes of the store's files. */
export interface BackupProgress {
  readonly copiedBytes: number;
  readonly totalBytes: number;
}

export interface BackupOptions {
  /**
   * Called with 0 before the first byte, then after each chunk copied (at most every
   * 1 MiB read and written, or 64 MiB copied in the kernel), last with `copiedBytes ===
   * totalBytes` before the copy is synced, renamed and read back. A callback that throws
   * fails the backup.
   */
  readonly onProgress?: (progress: BackupProgress) => void;
}

/** Suffix of the copy while it is written; renamed to the target only once whole and durable. */
export const BACKUP_PARTIAL_SUFFIX = '.partial';

/** One read and one write of a copy through memory. */
const COPY_CHUNK_BYTES = 1024 * 1024;
/** One kernel copy: large, since nothing passes through memory, yet small enough for a progress bar to move. */
const COPY_RANGE_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Copies a store's files into `target`, durably, never leaving something that could be
 * taken for a whole store: everything goes to `<target>.partial` first (each file
 * written and datasynced, the directory synced), which is renamed to `target` and the
 * parent synced. A crash leaves `target` absent or whole; `<target>.partial` may remain,
 * and the next backup to the same target refuses until it is removed (it is not keel's
 * to delete: a person may have put it there). An existing `target` is refused too.
 * `directory`: the store is a directory of files (else one file, the journal).
 *
 * Each file is copied the cheapest way `io` allows: by reflink where the file system
 * shares blocks, else inside the kernel (`IoFile.copyRangeFrom`), else read and written
 * through a buffer; the report says how many bytes went each way.
 */
export async function copyStoreFiles(io: Io, sources: readonly BackupSource[], target: string, directory: boolean, options: BackupOptions = {}): Promise<BackupReport> {
  assertPath(target, 'target');
  const partial = `${target}${BACKUP_PARTIAL_SUFFIX}`;
  for (const path of [target, partial]) {
    if (io.stat(path) !== null) throw new KeelError('KEEL_BAD_ARGUMENT', `backup target ${path} exists; a backup never writes over anything (remove it, or choose another target)`, { path });
  }
  await createDirectoryDurably(io, parentDir(target));
  const progress = new CopyProgress(sources, options.onProgress);
  if (directory) {
    io.mkdir(partial);
    await io.syncDir(parentDir(partial));
    for (const source of sources) await copyFile(io, source, joinPath(partial, source.name), progress);
    await io.syncDir(partial);
  } else {
    for (const source of sources) await copyFile(io, source, partial, progress);
  }
  await renameDurably(io, partial, target);
  return { target, files: sources.length, bytes: progress.copiedBytes, copiedBy: progress.copiedBy };
}

/** A verified backup opens with nothing to repair: any recovery action means the copy is not whole. */
export function assertBackupOpensCleanly(report: RecoveryReport, target: string): void {
  const repairs = report.actions.filter(isRepair);
  if (repairs.length > 0) {
    throw new KeelError('KEEL_CORRUPT', `the backup at ${target} does not open cleanly (${repairs.map((action) => action.kind).join(', ')}); it is not a whole copy`, { path: target });
  }
}

/** Counts what a backup has copied, and how, and tells the caller. */
class CopyProgress {
  readonly copiedBy: CopiedBytes = { reflink: 0, copyFileRange: 0, readWrite: 0 };
  copiedBytes = 0;
  readonly #totalBytes: number;
  readonly #onProgress: BackupOptions['onProgress'];

  constructor(sources: readonly BackupSource[], onProgress: BackupOptions['onProgress']) {
    this.#totalBytes = sources.reduce((sum, source) => sum + source.length, 0);
    this.#onProgress = onProgress;
    this.#report();
  }

  add(copied: CopiedBytes): void {
    this.copiedBy.reflink += copied.reflink;
    this.copiedBy.copyFileRange += copied.copyFileRange;
    this.copiedBy.readWrite += copied.readWrite;
    this.copiedBytes += copied.reflink + copied.copyFileRange + copied.readWrite;
    this.#report();
  }

  #report(): void {
    this.#onProgress?.({ copiedBytes: this.copiedBytes, totalBytes: this.#totalBytes });
  }
}

async function copyFile(io: Io, source: BackupSource, to: string, progress: CopyProgress): Promise<void> {
  const out = io.open(to, { createNew: true });
  try {
    const copied = await copyInKernel(out, source, progress);
    if (copied < source.length) await copyThroughMemory(out, source, copied, progress);
    await out.datasync();
  } finally {
    out.closeSync();
  }
}

/** Copies with `copyRangeFrom` while the Io can; returns the bytes copied (all of them, or 0 when it cannot). */
async function copyInKernel(out: IoFile, source: BackupSource, progress: CopyProgress): Promise<number> {
  if (out.copyRangeFrom === undefined) return 0;
  let position = 0;
  while (position < source.length) {
    const want = Math.min(COPY_RANGE_CHUNK_BYTES, source.length - position);
    const copied = await out.copyRangeFrom(source.file, position, want, position);
    // The Io cannot copy from this source at all: it is decided by the file, not the chunk.
    if (copied === null) break;
    const got = copied.reflink + copied.copyFileRange + copied.readWrite;
    if (got !== want) throw shorterThanHeld(source, position + got);
    progress.add(copied);
    position += want;
  }
  return position;
}

async function copyThroughMemory(out: IoFile, source: BackupSource, from: number, progress: CopyProgress): Promise<void> {
  const chunkBytes = Math.min(COPY_CHUNK_BYTES, Math.max(source.length - from, 1));
  // Placed for each position, the read and the write both copy page to page (see read-placement).
  const memory = allocReadMemory(chunkBytes);
  for (let position = from; position < source.length; ) {
    const want = Math.min(chunkBytes, source.length - position);
    const chunk = placedView(memory, position, want);
    const read = await source.file.read(chunk, position);
    if (read !== want) throw shorterThanHeld(source, position + read);
    await out.write(chunk, position);
    progress.add({ reflink: 0, copyFileRange: 0, readWrite: want });
    position += want;
  }
}

function shorterThanHeld(source: BackupSource, offset: number): KeelError {
  return new KeelError('KEEL_CORRUPT', `${source.file.path} is shorter than the ${source.length} bytes the store holds in it`, { path: source.file.path, offset });
}
