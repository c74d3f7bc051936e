// The release check: proves against a real registry (Verdaccio on 127.0.0.1) that keel can
// be released and installed. `pnpm release:check`; .ci/run runs it on every change.
//
//  0. `pnpm changeset version` bumps every package (platform packages in lockstep with
//     @keel/native) and writes a CHANGELOG.md for each, in a throwaway worktree;
//  1. a release whose publish fails half-way (the registry refuses one package) leaves
//     the registry without any of its versions and the repository as it was;
//  2. the real `pnpm release` publishes every public package and the platform binary;
//     a second run publishes nothing;
//  3. publint and arethetypeswrong (ESM-only profile) are clean on every published tarball;
//  4. each backend installs with npm and with pnpm in a fresh project outside the
//     workspace, with no Rust toolchain on PATH, and runs as ESM, through require() and in
//     a worker thread beside the main thread;
//  5. @keel/remote-s3 installs with npm (the AWS SDK from the registry) and loads as ESM
//     and through require();
//  6. a TypeScript consumer typechecks with moduleResolution node16 and bundler.
// Verdaccio is stopped and every directory removed however the check ends.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkChangesetVersion } from './version-check.mjs';
import { buildFromPublishedSources, createConsumer, install, runSmoke, typecheck, withoutRustToolchain } from './consumer-project.mjs';
import { startRegistry } from './registry.mjs';
import { publishedOf } from './registry-state.mjs';
import { kib, tarballBytes, treeBytes, unpackedBytes } from './sizes.mjs';
import { ROOT, StepError, publicPackages, run } from './workspace.mjs';

const BACKENDS = ['journal', 'segment-log', 'payload-store', 'wal-kv'];
const PROGRAMS = ['esm.mjs', 'cjs.cjs', 'worker.mjs'];
const FAIL_PACKAGE = '@keel/wal-kv';

async function step(name, action) {
  const started = Date.now();
  try {
    const result = await action();
    console.log(`release check: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    throw error instanceof StepError ? error : new StepError(name, error.stack ?? String(error));
  }
}

function repositoryState() {
  return run('repository state', 'git', ['status', '--porcelain', '--ignored=no'], { capture: true }).stdout
    + run('repository state', 'git', ['tag', '--list'], { capture: true }).stdout;
}

function releaseWith(registry, { expectFailure }) {
  const result = run('pnpm release', 'pnpm', ['release', '--no-git-tag'], { env: registry.env, capture: true, allowFailure: true });
  const output = `${result.stdout}\n${result.stderr}`;
  if (expectFailure && result.status === 0) throw new StepError('failed release', 'the release succeeded although the registry refused a package');
  if (!expectFailure && result.status !== 0) throw new StepError('pnpm release', output.slice(-4000));
  return output;
}

function releasedPackages() {
  const packages = publicPackages();
  const native = packages.find((entry) => entry.name === '@keel/native');
  return [...packages, { name: '@keel/native-linux-x64-gnu', version: native.version }];
}

/** What the registry serves must name real versions and only conditions that resolve. */
function assertPublishedManifest(tarball) {
  const manifest = run('published manifest', 'tar', ['-xzOf', tarball, 'package/package.json'], { capture: true }).stdout;
  if (manifest.includes('workspace:')) throw new StepError('published manifest', `${tarball} still names workspace: versions`);
  if (manifest.includes('"source"')) throw new StepError('published manifest', `${tarball} exports the workspace-only source condition`);
}

function lintTarballs(registry, workDir) {
  const tarballs = join(workDir, 'tarballs');
  mkdirSync(tarballs);
  run('fetch tarballs', 'npm', ['pack', '--pack-destination', tarballs, ...releasedPackages().map((entry) => `${entry.name}@${entry.version}`)], {
    cwd: ROOT,
    env: registry.env,
    capture: true,
  });
  const bin = join(ROOT, 'node_modules', '.bin');
  for (const tarball of readdirSync(tarballs)) {
    const path = join(tarballs, tarball);
    console.log(`release check: size ${tarball}: packed ${kib(tarballBytes(path))}, unpacked ${kib(unpackedBytes(path))}`);
    assertPublishedManifest(path);
    run(`publint ${tarball}`, join(bin, 'publint'), ['run', path, '--strict'], { capture: true });
    // The platform package has no entry point of its own: the addon is loaded by path.
    if (!tarball.includes('native-linux')) {
      run(`attw ${tarball}`, join(bin, 'attw'), [path, '--profile', 'esm-only', '--format', 'table-flipped'], { capture: true });
    }
  }
}

async function main() {
  // The release builds every package first; doing it here keeps its output out of step 1.
  await step('build', () => run('build', 'pnpm', ['build', '--output-logs=errors-only'], { capture: true }));
  await step('changeset version bumps every package and writes its CHANGELOG', () => console.log(`release check: ${checkChangesetVersion()}`));
  const workDir = mkdtempSync(join(tmpdir(), 'keel-release-check-'));
  let registry;
  try {
    registry = await startRegistry({ denyPublish: [FAIL_PACKAGE] });
    const before = repositoryState();
    await step('a release the registry refuses half-way is rolled back', async () => {
      const output = releaseWith(registry, { expectFailure: true });
      if (!/rolled back \d+ package/.test(output)) throw new StepError('rollback', `no rollback reported:\n${output.slice(-4000)}`);
      const left = await publishedOf(releasedPackages(), registry.env);
      if (left.length > 0) throw new StepError('rollback', `still on the registry: ${left.map((entry) => entry.name).join(', ')}`);
      if (repositoryState() !== before) throw new StepError('rollback', 'the repository changed');
    });
    const home = registry.home;
    await registry.stop({ keepHome: true });
    registry = await startRegistry({ home });

    await step('pnpm release publishes every public package', async () => {
      releaseWith(registry, { expectFailure: false });
      const landed = new Set((await publishedOf(releasedPackages(), registry.env)).map((entry) => entry.name));
      const missing = releasedPackages().filter((entry) => !landed.has(entry.name));
      if (missing.length > 0) throw new StepError('pnpm release', `missing: ${missing.map((entry) => entry.name).join(', ')}`);
      if (repositoryState() !== before) throw new StepError('pnpm release', 'the repository changed');
    });
    await step('a second release publishes nothing', () => {
      const output = releaseWith(registry, { expectFailure: false });
      if (!output.includes('nothing to publish')) throw new StepError('second release', output.slice(-4000));
    });
    await step('publint and attw are clean on every tarball', () => lintTarballs(registry, workDir));

    const env = withoutRustToolchain(registry.env);
    for (const client of ['npm', 'pnpm']) {
      for (const backend of BACKENDS) {
        await step(`${client}: @keel/${backend} installs and runs as ESM, via require() and in a worker`, () => {
          const dir = createConsumer(join(workDir, `${client}-${backend}`), { name: `consumer-${backend}` });
          install(`${client} install @keel/${backend}`, dir, client, [`@keel/${backend}`], env);
          if (client === 'npm') console.log(`release check: size npm install @keel/${backend}: ${kib(treeBytes(join(dir, 'node_modules')))}`);
          for (const program of PROGRAMS) runSmoke(`${client} ${backend} ${program}`, dir, program, backend, env);
        });
      }
    }
    await step('npm: @keel/remote-s3 installs with the AWS SDK and loads as ESM and via require()', () => {
      const dir = createConsumer(join(workDir, 'npm-remote-s3'), { name: 'consumer-remote-s3' });
      install('npm install @keel/remote-s3', dir, 'npm', ['@keel/remote-s3'], env);
      console.log(`release check: size npm install @keel/remote-s3: ${kib(treeBytes(join(dir, 'node_modules')))}`);
      run('remote-s3 smoke', process.execPath, [join(dir, 'remote-s3.mjs')], { cwd: dir, env, capture: true });
    });
    await step('a TypeScript consumer typechecks with node16 and bundler resolution', () => {
      const dir = createConsumer(join(workDir, 'typescript'), { name: 'consumer-typescript' });
      install('install for typescript', dir, 'npm', [...BACKENDS.map((backend) => `@keel/${backend}`), '@keel/core', '@keel/remote-s3', '@types/node@20'], env);
      typecheck('typecheck', dir, env);
    });
    await step('the addon builds from the published package\'s sources and loads without a platform package', () => {
      const dir = createConsumer(join(workDir, 'source-build'), { name: 'consumer-source-build' });
      install('install for the source build', dir, 'npm', ['@keel/journal'], withoutRustToolchain(registry.env));
      buildFromPublishedSources('source build', dir, registry.env);
      runSmoke('source build esm.mjs', dir, 'esm.mjs', 'journal', withoutRustToolchain(registry.env));
    });
  } finally {
    await registry?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => console.log('release check: passed'),
  (error) => {
    console.error(`release check FAILED at step "${error.step ?? 'unknown'}":\n${error.message}`);
    process.exit(1);
  },
);
