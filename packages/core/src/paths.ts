/**
 * Path arithmetic on the '/'-separated paths an Io takes, the same for every Io (real
 * files and FaultFs alike): node:path's POSIX functions, so that trailing and doubled
 * slashes mean what they mean to the operating system.
 */
import { posix } from 'node:path';

export function parentDir(path: string): string {
  return posix.dirname(posix.normalize(path));
}

export function joinPath(dir: string, name: string): string {
  return posix.join(dir, name);
}
