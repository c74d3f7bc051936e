import type { Io } from './io.js';
import { parentDir } from './paths.js';

/**
 * Creates `dir` (and any missing parents) and makes it durable. A directory's entry, like
 * a file's, survives a power cut only once its parent is synced, so the parent of every
 * directory made here is synced, and so is the parent of `dir` itself even when it
 * already existed: a process that made it may have died before syncing it. A store calls
 * this before it writes anything it will acknowledge into `dir`.
 */
export async function createDirectoryDurably(io: Io, dir: string): Promise<void> {
  const parents = new Set([parentDir(dir)]);
  for (let path = dir; io.stat(path) === null && parentDir(path) !== path; path = parentDir(path)) parents.add(parentDir(path));
  io.mkdir(dir);
  for (const parent of parents) await io.syncDir(parent);
}
