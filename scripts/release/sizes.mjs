// Sizes a user pays: each tarball as downloaded, and what an install puts on disk.
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Apparent bytes of every file under `dir` (symlinks not followed: pnpm links its store). */
export function treeBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    total += stat.isDirectory() ? treeBytes(path) : stat.isFile() ? stat.size : 0;
  }
  return total;
}

/** Bytes of the files inside a tarball, read with tar. */
export function unpackedBytes(tarball) {
  const listing = spawnSync('tar', ['-tvzf', tarball], { encoding: 'utf8' }).stdout;
  return listing
    .split('\n')
    .filter(Boolean)
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[2] ?? 0), 0);
}

export function tarballBytes(tarball) {
  return statSync(tarball).size;
}

export function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
