import type { Io, IoFile } from './io.js';
import { parentDir } from './paths.js';
import { removeQuietly } from './remove-quietly.js';

/** The name a saved tail is given when it is free: `<file>.torn-<offset>`. */
export function savedTailPath(path: string, offset: number): string {
  return `${path}.torn-${offset}`;
}

/**
 * A saved tail's name while its bytes are being copied. A crash can leave a partial copy
 * under it; it never ends in `.torn-<offset>`, so nobody mistakes it for a saved tail.
 */
export const SAVING_SUFFIX = '.saving';

const TAIL_COPY_CHUNK_BYTES = 1 << 20;

/**
 * Copies bytes [from, to) of `file` beside it, makes the copy and its directory entry
 * durable, then truncates `file` to `from` and syncs it. Returns the copy's path.
 *
 * The copy never replaces or writes through anything that exists: it is created
 * exclusively (O_EXCL, which also refuses to follow a symlink) under a temporary name,
 * datasynced, and renamed to `<file>.torn-<from>`, or to `<file>.torn-<from>.<n>` for
 * the first n that no entry of the directory holds (an earlier tear at the same offset,
 * a file or symlink somebody else put there). If anything fails before the truncate,
 * the copy is removed and `file` is untouched: a refused open leaves no partial tail.
 */
export async function saveAndTruncateTail(io: Io, file: IoFile, from: number, to: number): Promise<string> {
  const dir = parentDir(file.path);
  const taken = new Set(io.list(dir));
  const target = freshPath(taken, savedTailPath(file.path, from));
  const temporary = freshPath(taken, target + SAVING_SUFFIX);
  const copy = io.open(temporary, { createNew: true });
  let current = temporary;
  try {
    try {
      copyRange(file, copy, from, to);
      await copy.datasync();
    } finally {
      copy.closeSync();
    }
    io.rename(temporary, target);
    current = target;
    await io.syncDir(dir);
  } catch (error) {
    removeQuietly(io, current);
    throw error;
  }
  file.setLengthSync(from);
  await file.datasync();
  return target;
}

function copyRange(source: IoFile, target: IoFile, from: number, to: number): void {
  const chunk = new Uint8Array(Math.min(TAIL_COPY_CHUNK_BYTES, Math.max(1, to - from)));
  for (let position = from; position < to; ) {
    const read = source.readSync(chunk.subarray(0, Math.min(chunk.length, to - position)), position);
    if (read === 0) break;
    target.writeSync(chunk.subarray(0, read), position - from);
    position += read;
  }
}

/** `path` when no entry of its directory has its name, else `path.<n>` for the first free n. */
function freshPath(taken: Set<string>, path: string): string {
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  let fresh = name;
  for (let n = 1; taken.has(fresh); n++) fresh = `${name}.${n}`;
  taken.add(fresh);
  return path.slice(0, slash + 1) + fresh;
}
