import { createDirectoryDurably } from './durable-directory.js';
import { renameDurably } from './durable-file.js';
import { KeelError } from './errors.js';
import type { Io, IoFile } from './io.js';
import { joinPath, parentDir } from './paths.js';
import { isRepair, type RecoveryReport } from './recovery.js';
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
}

/** Suffix of the copy while it is written; renamed to the target only once whole and durable. */
export const BACKUP_PARTIAL_SUFFIX = '.partial';

const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Copies a store's files into `target`, durably, never leaving something that could be
 * taken for a whole store: everything goes to `<target>.partial` first (each file
 * written and datasynced, the directory synced), which is renamed to `target` and the
 * parent synced. A crash leaves `target` absent or whole; `<target>.partial` may remain,
 * and the next backup to the same target refuses until it is removed (it is not keel's
 * to delete: a person may have put it there). An existing `target` is refused too.
 * `directory`: the store is a directory of files (else one file, the journal).
 */
export async function copyStoreFiles(io: Io, sources: readonly BackupSource[], target: string, directory: boolean): Promise<BackupReport> {
  assertPath(target, 'target');
  const partial = `${target}${BACKUP_PARTIAL_SUFFIX}`;
  for (const path of [target, partial]) {
    if (io.stat(path) !== null) throw new KeelError('KEEL_BAD_ARGUMENT', `backup target ${path} exists; a backup never writes over anything (remove it, or choose another target)`, { path });
  }
  await createDirectoryDurably(io, parentDir(target));
  let bytes = 0;
  if (directory) {
    io.mkdir(partial);
    await io.syncDir(parentDir(partial));
    for (const source of sources) bytes += await copyFile(io, source, joinPath(partial, source.name));
    await io.syncDir(partial);
  } else {
    for (const source of sources) bytes += await copyFile(io, source, partial);
  }
  await renameDurably(io, partial, target);
  return { target, files: sources.length, bytes };
}

/** A verified backup opens with nothing to repair: any recovery action means the copy is not whole. */
export function assertBackupOpensCleanly(report: RecoveryReport, target: string): void {
  const repairs = report.actions.filter(isRepair);
  if (repairs.length > 0) {
    throw new KeelError('KEEL_CORRUPT', `the backup at ${target} does not open cleanly (${repairs.map((action) => action.kind).join(', ')}); it is not a whole copy`, { path: target });
  }
}

async function copyFile(io: Io, source: BackupSource, to: string): Promise<number> {
  const out = io.open(to, { createNew: true });
  try {
    const chunk = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(source.length, 1)));
    for (let position = 0; position < source.length; ) {
      const want = Math.min(chunk.length, source.length - position);
      const read = await source.file.read(chunk.subarray(0, want), position);
      if (read !== want) throw new KeelError('KEEL_CORRUPT', `${source.file.path} is shorter than the ${source.length} bytes the store holds in it`, { path: source.file.path, offset: position + read });
      await out.write(chunk.subarray(0, want), position);
      position += want;
    }
    await out.datasync();
  } finally {
    out.closeSync();
  }
  return source.length;
}
