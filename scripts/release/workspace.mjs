// The workspace as the release sees it: where it is, which packages are public, and a way
// to run a command that fails loudly with the step that ran it.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NATIVE_DIR = join(ROOT, 'packages', 'native');

export function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** Every non-private package under packages/, as `{ name, version, dir }`. */
export function publicPackages() {
  const base = join(ROOT, 'packages');
  return readdirSync(base)
    .map((entry) => join(base, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export class StepError extends Error {
  constructor(step, detail) {
    super(`${step}: ${detail}`);
    this.step = step;
  }
}

/**
 * Runs a command to completion. Output goes to the terminal unless `capture` is set, in
 * which case stdout is returned. A non-zero exit throws a StepError naming `step`.
 */
export function run(step, command, args, { cwd = ROOT, env = process.env, capture = false, allowFailure = false } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new StepError(step, `${command} could not start: ${result.error.message}`);
  if (result.status !== 0 && !allowFailure) {
    const output = capture ? `\n${`${result.stdout}\n${result.stderr}`.trim().slice(-6000)}` : '';
    throw new StepError(step, `\`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal}${output}`);
  }
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
