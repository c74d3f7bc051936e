// Fresh projects outside the workspace that install keel from the registry the way a user
// does, with no Rust toolchain on PATH, and run or typecheck the consumer programs.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ROOT, StepError, run } from './workspace.mjs';

const CONSUMER_SOURCES = join(dirname(fileURLToPath(import.meta.url)), 'consumer');
const TOOLCHAIN = ['cargo', 'rustc', 'rustup'];

/** The registry's environment with every directory that holds a Rust tool taken off PATH. */
export function withoutRustToolchain(env) {
  const path = (env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry && !TOOLCHAIN.some((tool) => existsSync(join(entry, tool))))
    .join(delimiter);
  const stripped = { ...env, PATH: path };
  const probe = spawnSync('cargo', ['--version'], { env: stripped });
  if (!probe.error) throw new StepError('no toolchain', 'cargo is still reachable on the stripped PATH');
  return stripped;
}

export function createConsumer(dir, { name }) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  cpSync(CONSUMER_SOURCES, dir, { recursive: true });
  return dir;
}

function packageDirFrom(fromDir, name) {
  return dirname(createRequire(join(fromDir, 'package.json')).resolve(`${name}/package.json`));
}

/**
 * The installed chain backend → core → native → platform package, as directories. pnpm
 * links each one from its own store directory, so each is resolved from the one before.
 */
function installedChain(dir, backend) {
  const chain = [realpathSync(packageDirFrom(dir, backend))];
  for (const name of ['@keel/core', '@keel/native', '@keel/native-linux-x64-gnu']) {
    chain.push(realpathSync(packageDirFrom(chain.at(-1), name)));
  }
  return chain;
}

/**
 * Installs with `npm install` or `pnpm add`. No package of ours may have an install
 * script, and the addon must come from the platform package: @keel/native ships none.
 */
export function install(step, dir, client, packages, env) {
  const args = client === 'npm' ? ['install', '--no-fund', '--no-audit', ...packages] : ['add', ...packages];
  run(step, client, args, { cwd: dir, env, capture: true });
  for (const backend of packages.filter((name) => name.startsWith('@keel/') && name !== '@keel/core')) {
    const chain = installedChain(dir, backend);
    for (const packageDir of chain) {
      const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
      const lifecycle = ['preinstall', 'install', 'postinstall'].filter((script) => manifest.scripts?.[script]);
      if (lifecycle.length > 0) throw new StepError(step, `${manifest.name} declares install scripts: ${lifecycle.join(', ')}`);
    }
    const nativeDir = chain[2];
    const bundled = readdirSync(join(nativeDir, 'binding')).filter((entry) => entry.endsWith('.node'));
    if (bundled.length > 0) throw new StepError(step, `@keel/native ships a binary of its own: ${bundled.join(', ')}`);
  }
}

/**
 * The README's source build, run as written inside the installed @keel/native; then the
 * platform package is removed so that only the freshly built binary can serve the import.
 */
export function buildFromPublishedSources(step, dir, env) {
  const nativeDir = join(dir, 'node_modules', '@keel', 'native');
  run(step, 'npx', ['--yes', '--package=@napi-rs/cli@3.10.12', 'napi', 'build', '--platform', '--release', '--output-dir', 'binding', '--no-js'], {
    cwd: nativeDir,
    env,
    capture: true,
  });
  const built = readdirSync(join(nativeDir, 'binding')).filter((entry) => entry.endsWith('.node'));
  if (built.length !== 1) throw new StepError(step, `expected one built addon in binding/, found ${built.join(', ') || 'none'}`);
  rmSync(join(dir, 'node_modules', '@keel', 'native-linux-x64-gnu'), { recursive: true, force: true });
  rmSync(join(nativeDir, 'target'), { recursive: true, force: true });
}

export function runSmoke(step, dir, program, backend, env) {
  const storeDir = join(dir, 'stores', `${program}-${backend}`);
  const { stdout } = run(step, process.execPath, [join(dir, program), backend, storeDir], { cwd: dir, env, capture: true });
  return stdout.trim();
}

export function typecheck(step, dir, env) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
    run(`${step} (${config})`, process.execPath, [tsc, '-p', config], { cwd: dir, env, capture: true });
  }
}
