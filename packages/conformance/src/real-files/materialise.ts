import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CrashPlan } from '../crash.js';
import type { FaultFs } from '../fault-fs.js';

/**
 * Writes the state `plan` makes of `fs` into the real directory `target`: every file a
 * crash leaves, at its path under `target` (FaultFs paths are absolute), so that a
 * backend on the native Io, or any other tool, can open a crash state. Returns the paths.
 */
export function materialiseToDirectory(fs: FaultFs, plan: CrashPlan, target: string): string[] {
  const crashed = fs.crash(plan).fs;
  const written: string[] = [];
  for (const [path, bytes] of crashed.files()) {
    const destination = join(target, path);
    mkdirSync(join(destination, '..'), { recursive: true });
    writeFileSync(destination, bytes);
    written.push(destination);
  }
  return written.sort();
}
