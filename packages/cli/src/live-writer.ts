import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether a writer holds the store's lock right now, read from the kernel's lock table
 * (/proc/locks) so that asking never takes the lock itself: a probe with flock could make
 * a writer that starts at that moment fail with KEEL_LOCKED. A directory store is locked
 * through its LOCK file, a journal through its own file. Where the table cannot be read,
 * the answer is false (then a writer's unfinished tail reads as damage, which is safe).
 */
export function writerIsLive(path: string): boolean {
  let target;
  try {
    const stat = statSync(path);
    target = stat.isFile() ? stat : statSync(join(path, 'LOCK'));
  } catch {
    return false;
  }
  let table: string;
  try {
    table = readFileSync('/proc/locks', 'latin1');
  } catch {
    return false;
  }
  const device = `${hex2(major(target.dev))}:${hex2(minor(target.dev))}:${target.ino} `;
  return table.split('\n').some((line) => line.includes(` ${device}`));
}

// Linux's dev_t encoding, as the kernel prints it in /proc/locks ("%02x:%02x:%lu").
function major(dev: number): number {
  return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}

function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & 0xfff00);
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}
