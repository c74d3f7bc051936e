// `pnpm changeset version` in a throwaway worktree of HEAD: every public package gets a new
// version and a CHANGELOG.md, and the platform packages generated from @keel/native's
// manifest carry its new version (they move in lockstep because they are made from it).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ROOT, StepError, publicPackages, readManifest, run } from './workspace.mjs';

export function checkChangesetVersion() {
  const pending = run('changeset status', 'git', ['ls-files', '.changeset/*.md'], { capture: true }).stdout
    .split('\n')
    .filter((path) => path && !path.endsWith('README.md'));
  if (pending.length === 0) return 'no pending changesets';
  const dir = join(mkdtempSync(join(tmpdir(), 'keel-version-')), 'worktree');
  run('changeset version', 'git', ['worktree', 'add', '--detach', dir, 'HEAD'], { capture: true });
  try {
    const before = new Map(publicPackages().map((entry) => [entry.name, entry.version]));
    run('changeset version', join(ROOT, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: dir, capture: true });
    const problems = [];
    for (const entry of publicPackages()) {
      const packageDir = join(dir, entry.dir.slice(ROOT.length + 1));
      const manifest = readManifest(packageDir);
      if (manifest.version === before.get(entry.name)) problems.push(`${entry.name} kept version ${manifest.version}`);
      if (!existsSync(join(packageDir, 'CHANGELOG.md'))) problems.push(`${entry.name} has no CHANGELOG.md`);
      else if (!readFileSync(join(packageDir, 'CHANGELOG.md'), 'utf8').includes(`## ${manifest.version}`)) {
        problems.push(`${entry.name}'s CHANGELOG.md has no section for ${manifest.version}`);
      }
    }
    const nativeDir = join(dir, 'packages', 'native');
    const nativeVersion = readManifest(nativeDir).version;
    run('changeset version', join(ROOT, 'packages', 'native', 'node_modules', '.bin', 'napi'), ['create-npm-dirs'], { cwd: nativeDir, capture: true });
    const platform = readManifest(join(nativeDir, 'npm', 'linux-x64-gnu'));
    if (platform.version !== nativeVersion) problems.push(`platform package at ${platform.version}, @keel/native at ${nativeVersion}`);
    if (problems.length > 0) throw new StepError('changeset version', problems.join('; '));
    return `${pending.length} changesets → @keel/native ${before.get('@keel/native')} → ${nativeVersion}`;
  } finally {
    run('changeset version', 'git', ['worktree', 'remove', '--force', dir], { capture: true });
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}
