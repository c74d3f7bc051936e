// The prebuilt addons a release ships: every `keel-native.<platform>.node` found in the
// local build output (`packages/native/binding`) and in the artifacts directory the
// release workflow downloads its build matrix into. Only these platforms get a package
// and an `optionalDependencies` entry: a declared target without a binary is not claimed.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { NATIVE_DIR, readManifest } from './workspace.mjs';

const ARCH = { x86_64: 'x64', aarch64: 'arm64' };

/** `x86_64-unknown-linux-gnu` → `linux-x64-gnu`, the suffix napi-rs gives the file and package. */
export function platformOf(target) {
  const [arch, , os, abi] = target.split('-');
  if (!(arch in ARCH)) throw new Error(`unknown architecture in target ${target}`);
  if (os === 'linux') return `linux-${ARCH[arch]}-${abi}`;
  if (os === 'darwin') return `darwin-${ARCH[arch]}`;
  throw new Error(`unknown operating system in target ${target}`);
}

function nodeFilesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return nodeFilesUnder(path);
    return entry.endsWith('.node') ? [path] : [];
  });
}

/**
 * Copies the binaries of declared targets into `stagingDir` (the layout `napi artifacts`
 * reads) and writes a napi config naming only those targets. Returns the targets found.
 */
export function stageBinaries(stagingDir, artifactsDir) {
  const { napi } = readManifest(NATIVE_DIR);
  const byFile = new Map(napi.targets.map((target) => [`${napi.binaryName}.${platformOf(target)}.node`, target]));
  const found = new Map();
  for (const path of [...nodeFilesUnder(join(NATIVE_DIR, 'binding')), ...nodeFilesUnder(artifactsDir)]) {
    const target = byFile.get(basename(path));
    if (target !== undefined && !found.has(target)) found.set(target, path);
  }
  for (const [target, path] of found) {
    const dir = join(stagingDir, `bindings-${target}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path, join(dir, basename(path)));
  }
  const targets = napi.targets.filter((target) => found.has(target));
  const configPath = join(stagingDir, 'napi.config.json');
  writeFileSync(configPath, JSON.stringify({ ...napi, targets }, null, 2));
  return { targets, configPath };
}
