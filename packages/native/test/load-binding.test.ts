import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { describePlatform, prebuiltPlatforms, unavailableBindingError } from '../src/load-binding.js';
import { tempDir } from './helpers.js';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('loading the addon', () => {
  it('names this platform the way the platform packages do', () => {
    const platform = describePlatform();
    expect(platform.os).toBe(process.platform);
    expect(platform.arch).toBe(process.arch);
    if (process.platform === 'linux') expect(['glibc', 'musl']).toContain(platform.libc);
  });

  it('lists the prebuilt platforms from the published optionalDependencies', () => {
    const manifest = {
      optionalDependencies: { '@keel/native-linux-x64-musl': '1.0.0', '@keel/native-linux-x64-gnu': '1.0.0', other: '1' },
    };
    expect(prebuiltPlatforms(manifest)).toEqual(['linux-x64-gnu', 'linux-x64-musl']);
    expect(prebuiltPlatforms({})).toEqual([]);
  });

  it('says which platform, what is prebuilt and how to build from source', () => {
    const error = unavailableBindingError({ os: 'linux', arch: 'riscv64', libc: 'musl' }, ['linux-x64-gnu'], new Error('x'));
    expect((error as Error & { code: string }).code).toBe('KEEL_NATIVE_UNAVAILABLE');
    expect(error.message).toContain('os linux, arch riscv64, libc musl');
    expect(error.message).toContain('Prebuilt binaries: linux-x64-gnu');
    expect(error.message).toContain('build --platform --release');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('fails with that error, not the generated loader’s, when an installed copy has no binary', () => {
    // An installed @keel/native as npm lays it out, minus the platform package: the
    // published build and loader, and a manifest naming a platform package that is absent.
    const installed = join(tempDir(), 'node_modules', '@keel', 'native');
    mkdirSync(join(installed, 'binding'), { recursive: true });
    cpSync(join(PACKAGE_DIR, 'dist'), join(installed, 'dist'), { recursive: true });
    cpSync(join(PACKAGE_DIR, 'binding', 'index.cjs'), join(installed, 'binding', 'index.cjs'));
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
    manifest.optionalDependencies = { '@keel/native-linux-x64-gnu': manifest.version };
    writeFileSync(join(installed, 'package.json'), JSON.stringify(manifest));

    const env = { ...process.env };
    delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(installed, 'dist', 'index.js'))})`], {
      encoding: 'utf8',
      env,
    });
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain('KEEL_NATIVE_UNAVAILABLE');
    expect(child.stderr).toContain(`arch ${process.arch}`);
    expect(child.stderr).toContain('Prebuilt binaries: linux-x64-gnu');
    // The generated loader's errors stay reachable as the cause, behind ours.
    expect(child.stderr.indexOf('@keel/native: no usable native binary')).toBeLessThan(child.stderr.indexOf('Cannot find'));
  });
});
