import type { Io } from './io.js';
import { parentDir } from './paths.js';
import { removeQuietly } from './remove-quietly.js';

/** What a durable write puts in the file: one buffer, or several written back to back. */
export type FileContents = Uint8Array | readonly Uint8Array[];

export interface DurableWriteOptions {
  /**
   * The name the bytes are written under before the rename. Each backend keeps its own
   * (wal-kv's `.tmp`, core's `.saving`) because its recovery recognises them; it must be
   * in the target's directory so that the rename is atomic.
   */
  temporaryPath: string;
  /**
   * Work the new file must not be named before (for example the datasync of a log the
   * file points into): it runs beside the file's write and datasync, and the rename
   * waits for both. If it fails, the temporary is removed and `path` is untouched.
   */
  renameAfter?: Promise<unknown>;
}

/**
 * Replaces (or creates) `path` with `contents`, crash-safely: the bytes go to
 * `temporaryPath`, created exclusively (O_EXCL: never through a leftover or a symlink),
 * are datasynced, renamed over `path`, and the directory is fsynced. A crash at any
 * step leaves `path` with its old content (or absent) or the whole new content, never
 * a part; it can leave the temporary behind, which the backend's recovery removes.
 * The syncs run on the Io's async calls, off the event loop. On a failure before the
 * rename the temporary is removed and `path` is untouched.
 */
export async function writeFileDurably(io: Io, path: string, contents: FileContents, options: DurableWriteOptions): Promise<void> {
  const temporary = checkedTemporary(path, options);
  await writeNewFileBeside(io, temporary, contents, options.renameAfter);
  renameOrRemove(io, temporary, path);
  await io.syncDir(parentDir(path));
}

/** `writeNewFile` of `path`, settled only once `beside` is too; if `beside` fails, the new file is removed. */
async function writeNewFileBeside(io: Io, path: string, contents: FileContents, beside: Promise<unknown> | undefined): Promise<void> {
  if (beside === undefined) return writeNewFile(io, path, contents);
  const written = writeNewFile(io, path, contents);
  // Observed from the start: the write may fail while `beside` is still running.
  const wroteFile = written.then(() => true, () => false);
  try {
    await beside;
  } catch (error) {
    // writeNewFile removes its file on its own failure; after its success it is ours to remove.
    if (await wroteFile) removeQuietly(io, path);
    throw error;
  }
  await written;
}

/** `writeFileDurably` on the calling thread (for opens and other synchronous paths). */
export function writeFileDurablySync(io: Io, path: string, contents: FileContents, options: DurableWriteOptions): void {
  const temporary = checkedTemporary(path, options);
  writeNewFileSync(io, temporary, contents);
  renameOrRemove(io, temporary, path);
  io.syncDirSync(parentDir(path));
}

/**
 * Creates `path` exclusively, writes `contents` and datasyncs it; its directory entry is
 * the caller's to make durable. On failure the file is removed.
 */
export async function writeNewFile(io: Io, path: string, contents: FileContents): Promise<void> {
  const file = io.open(path, { createNew: true });
  try {
    try {
      let position = 0;
      for (const buffer of buffersOf(contents)) {
        await file.write(buffer, position);
        position += buffer.length;
      }
      await file.datasync();
    } finally {
      file.closeSync();
    }
  } catch (error) {
    removeQuietly(io, path);
    throw error;
  }
}

/** `writeNewFile` on the calling thread. */
export function writeNewFileSync(io: Io, path: string, contents: FileContents): void {
  const file = io.open(path, { createNew: true });
  try {
    try {
      let position = 0;
      for (const buffer of buffersOf(contents)) {
        file.writeSync(buffer, position);
        position += buffer.length;
      }
      file.datasyncSync();
    } finally {
      file.closeSync();
    }
  } catch (error) {
    removeQuietly(io, path);
    throw error;
  }
}

/**
 * Renames `from` to `to` and fsyncs the directories, off the event loop: the rename
 * survives a crash once this resolves. The rename itself runs on the threadpool too where
 * the Io can (`Io.renameDurable`), else on the calling thread.
 */
export async function renameDurably(io: Io, from: string, to: string): Promise<void> {
  if (io.renameDurable !== undefined) return io.renameDurable(from, to);
  io.rename(from, to);
  await io.syncDir(parentDir(to));
  if (parentDir(from) !== parentDir(to)) await io.syncDir(parentDir(from));
}

function checkedTemporary(path: string, options: DurableWriteOptions): string {
  const temporary = options.temporaryPath;
  // Programmer errors: a rename across directories is not atomic, and a temporary named
  // as the target would be created over it.
  if (parentDir(temporary) !== parentDir(path) || temporary === path) {
    throw new Error(`the temporary ${temporary} must be another name in ${parentDir(path)}`);
  }
  return temporary;
}

function renameOrRemove(io: Io, temporary: string, path: string): void {
  try {
    io.rename(temporary, path);
  } catch (error) {
    removeQuietly(io, temporary);
    throw error;
  }
}

function buffersOf(contents: FileContents): readonly Uint8Array[] {
  return contents instanceof Uint8Array ? [contents] : contents;
}
