import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeelError, nativeIo } from '@keel/core';
import type { BackendAdapter } from '../adapter.js';
import { readAll, sameState, writeStore } from '../hostile-files.js';
import { describeError } from '../scenario-rules.js';
import { violation } from '../violation.js';

/** Names keel gives its temporaries: a symlink planted there must never be written through. */
const TEMPORARY_SUFFIXES = ['.tmp', '.saving', '.torn-0', '.compacting'] as const;

export interface HostileLinksSummary {
  cases: number;
  refused: number;
  opened: number;
}

interface Planted {
  readonly what: string;
  apply(storeDir: string, outsideDir: string): void;
}

/**
 * Every path under `dir` with what it is (lstat: a symlink is its target, never
 * followed), for "nothing changed" checks that see links as links.
 */
function linkAwareImage(dir: string): Map<string, string> {
  const image = new Map<string, string>();
  const visit = (path: string, name: string): void => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isSymbolicLink()) image.set(name, `-> ${readlinkSync(path)}`);
    else if (stat.isDirectory()) {
      image.set(`${name}/`, 'directory');
      for (const child of readdirSync(path).sort()) visit(join(path, child), `${name}/${child}`);
    } else image.set(name, readFileSync(path).toString('base64'));
  };
  visit(dir, '');
  return image;
}

function sameImage(left: Map<string, string>, right: Map<string, string>): boolean {
  return left.size === right.size && [...left].every(([path, what]) => right.get(path) === what);
}

/** The hostile links for one file of the store: itself a link (to a copy outside, or to nothing), and links at its temporaries' names. */
function plantsFor(name: string, bytes: Uint8Array): Planted[] {
  const plants: Planted[] = [
    {
      what: `${name} is a symlink to a copy of itself outside the store`,
      apply(storeDir, outsideDir) {
        writeFileSync(join(outsideDir, `${name}.copy`), bytes);
        rmSync(join(storeDir, name));
        symlinkSync(join(outsideDir, `${name}.copy`), join(storeDir, name));
      },
    },
    {
      what: `${name} is a dangling symlink`,
      apply(storeDir, outsideDir) {
        rmSync(join(storeDir, name));
        symlinkSync(join(outsideDir, 'nowhere'), join(storeDir, name));
      },
    },
  ];
  for (const suffix of TEMPORARY_SUFFIXES) {
    plants.push({
      what: `${name}${suffix} is a symlink to a file outside the store`,
      apply(storeDir, outsideDir) {
        writeFileSync(join(outsideDir, `victim${suffix}`), `not keel's: ${name}${suffix}`);
        symlinkSync(join(outsideDir, `victim${suffix}`), join(storeDir, `${name}${suffix}`));
      },
    });
  }
  return plants;
}

/**
 * On real files through the native Io: symlinks where a store's files belong (each file
 * replaced by a link to a copy of itself outside the store, and by a dangling link) and
 * at the names of keel's temporaries beside each file, pointing outside the store. Open
 * must refuse with a KeelError and change nothing (links stay links, their targets
 * untouched), or open and hold exactly what was written, without having written through
 * a link to anything outside the store.
 */
export async function runHostileLinks(adapter: BackendAdapter): Promise<HostileLinksSummary> {
  const root = mkdtempSync(join(tmpdir(), 'keel-hostile-links-'));
  const storeDir = join(root, 'store');
  const outsideDir = join(root, 'outside');
  const summary: HostileLinksSummary = { cases: 0, refused: 0, opened: 0 };
  try {
    const written = await writeStore(adapter, nativeIo, storeDir, 1);
    const pristine = new Map(readdirSync(storeDir).sort().map((name) => [name, new Uint8Array(readFileSync(join(storeDir, name)))]));
    for (const [name, bytes] of pristine) {
      for (const plant of plantsFor(name, bytes)) {
        rmSync(storeDir, { recursive: true, force: true });
        rmSync(outsideDir, { recursive: true, force: true });
        mkdirSync(storeDir, { recursive: true });
        mkdirSync(outsideDir, { recursive: true });
        for (const [file, contents] of pristine) writeFileSync(join(storeDir, file), contents);
        plant.apply(storeDir, outsideDir);
        summary.cases++;
        const before = linkAwareImage(storeDir);
        const outside = linkAwareImage(outsideDir);
        let store: unknown;
        try {
          store = await adapter.open(nativeIo, storeDir, { durability: { mode: 'explicit' }, recovery: 'truncate-tail' });
        } catch (error) {
          if (!isKeelError(error)) violation(`${plant.what}: open threw ${describeError(error)}, not a KeelError`);
          if (!sameImage(before, linkAwareImage(storeDir))) violation(`${plant.what}: open refused (${error.code}) but changed the store's files`);
          if (!sameImage(outside, linkAwareImage(outsideDir))) violation(`${plant.what}: open refused (${error.code}) but changed a file outside the store`);
          summary.refused++;
          continue;
        }
        try {
          if (!sameImage(outside, linkAwareImage(outsideDir))) violation(`${plant.what}: open wrote through a symlink to a file outside the store`);
          if (!sameState(written.expected, await readAll(adapter, store))) violation(`${plant.what}: open succeeded but the store no longer holds exactly what was written and acknowledged`);
          summary.opened++;
        } finally {
          await adapter.close(store).catch(() => undefined);
        }
      }
    }
    return summary;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
