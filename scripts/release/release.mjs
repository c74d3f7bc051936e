// `pnpm release`: builds every package, collects the prebuilt addons, and publishes every
// public package whose version the configured registry does not hold yet, platform
// packages first. All or nothing: a failure unpublishes what this run published and puts
// the repository back as it was. Running it again after a success publishes nothing.
//
//   pnpm release [--no-git-tag]
//
// KEEL_ARTIFACTS_DIR: where the release workflow downloaded its build matrix's binaries
// (default packages/native/artifacts).
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { platformOf, stageBinaries } from './platform-binaries.mjs';
import { publishedOf, unpublishAll } from './registry-state.mjs';
import { NATIVE_DIR, ROOT, StepError, publicPackages, run } from './workspace.mjs';

const NAPI = ['exec', 'napi'];

function gitTags() {
  return new Set(run('git tags', 'git', ['tag', '--list'], { capture: true }).stdout.split('\n').filter(Boolean));
}

/** Files the release writes into the repository, removed or restored however it ends. */
function repositoryGuard() {
  const manifestPath = join(NATIVE_DIR, 'package.json');
  const manifest = readFileSync(manifestPath);
  const tagsBefore = gitTags();
  return {
    restore({ keepTags }) {
      writeFileSync(manifestPath, manifest);
      rmSync(join(NATIVE_DIR, 'npm'), { recursive: true, force: true });
      // `napi artifacts` also drops a copy of each binary at the package root.
      for (const entry of readdirSync(NATIVE_DIR)) {
        if (entry.endsWith('.node')) rmSync(join(NATIVE_DIR, entry));
      }
      if (!keepTags) {
        for (const tag of gitTags()) if (!tagsBefore.has(tag)) run('restore tags', 'git', ['tag', '--delete', tag], { capture: true });
      }
    },
  };
}

function preparePlatformPackages(targets, configPath, stagingDir, version) {
  run('platform packages', 'pnpm', [...NAPI, 'create-npm-dirs', '--config-path', configPath], { cwd: NATIVE_DIR });
  run('platform packages', 'pnpm', [...NAPI, 'artifacts', '--config-path', configPath, '--output-dir', stagingDir], {
    cwd: NATIVE_DIR,
  });
  return targets.map((target) => {
    const dir = join(NATIVE_DIR, 'npm', platformOf(target));
    copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
    return { name: `@keel/native-${platformOf(target)}`, version, dir };
  });
}

function publishAll(configPath, gitTag) {
  // Publishes the platform packages and writes them into @keel/native's optionalDependencies.
  run('publish platform packages', 'pnpm', [...NAPI, 'pre-publish', '-t', 'npm', '--config-path', configPath], {
    cwd: NATIVE_DIR,
  });
  run('changeset publish', 'pnpm', ['exec', 'changeset', 'publish', ...(gitTag ? [] : ['--no-git-tag'])]);
}

export async function release({ gitTag = true, build = true } = {}) {
  if (build) run('build', 'pnpm', ['build']);
  run('registry auth', 'npm', ['whoami'], { capture: true });

  const stagingDir = mkdtempSync(join(tmpdir(), 'keel-release-'));
  const guard = repositoryGuard();
  let published = [];
  try {
    const artifactsDir = process.env.KEEL_ARTIFACTS_DIR ?? join(NATIVE_DIR, 'artifacts');
    const { targets, configPath } = stageBinaries(stagingDir, artifactsDir);
    if (targets.length === 0) throw new StepError('binaries', 'no prebuilt addon found: run pnpm build first');
    const packages = publicPackages();
    const nativeVersion = packages.find((entry) => entry.name === '@keel/native').version;
    const platformPackages = preparePlatformPackages(targets, configPath, stagingDir, nativeVersion);
    const candidates = [...platformPackages, ...packages];
    const already = new Set(await publishedOf(candidates));
    const plan = candidates.filter((entry) => !already.has(entry));
    if (plan.length === 0) {
      console.log('release: every public package version is already on the registry; nothing to publish');
      return { published: [] };
    }
    console.log(`release: publishing ${plan.map((entry) => `${entry.name}@${entry.version}`).join(', ')}`);
    try {
      publishAll(configPath, gitTag);
      const landed = new Set(await publishedOf(plan));
      const missing = plan.filter((entry) => !landed.has(entry));
      if (missing.length > 0) {
        throw new StepError('verify', `not on the registry after publishing: ${missing.map((entry) => entry.name).join(', ')}`);
      }
      published = plan;
    } catch (error) {
      const rolledBack = await publishedOf(plan);
      await unpublishAll(rolledBack);
      const left = await publishedOf(rolledBack);
      const rollback = left.length === 0
        ? `rolled back ${rolledBack.length} package(s) this run had published`
        : `COULD NOT roll back ${left.map((entry) => `${entry.name}@${entry.version}`).join(', ')}`;
      throw new StepError(error.step ?? 'publish', `${error.message}\nrelease: ${rollback}`);
    }
    return { published };
  } finally {
    guard.restore({ keepTags: gitTag && published.length > 0 });
    rmSync(stagingDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { published } = await release({ gitTag: !process.argv.includes('--no-git-tag') });
    if (published.length > 0) console.log(`release: published ${published.length} package(s)`);
  } catch (error) {
    console.error(`release failed at step "${error.step ?? 'unknown'}": ${error.message}`);
    process.exit(1);
  }
}
