/**
 * Loads the addon through the loader `napi build` generates (`binding/index.cjs`), which
 * looks for `binding/keel-native.<platform>.node` (a build from source) and then for the
 * `@keel/native-<platform>` package that npm installed from `optionalDependencies`.
 *
 * When neither exists, the generated loader's own error names a WebAssembly package keel
 * does not publish; this module replaces it with one error that says which platform this
 * is, which platforms have prebuilt binaries, and how to build one from source.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const PLATFORM_PACKAGE_PREFIX = '@keel/native-';
const SOURCE_BUILD_HELP =
  'To build the addon from source (Rust 1.87+ and cargo on PATH), run inside the installed ' +
  '@keel/native directory: npx --yes --package=@napi-rs/cli@3.10.12 napi build --platform --release --output-dir binding --no-js ' +
  '(or, in a checkout of the keel repository: pnpm --filter @keel/native build).';

export interface PlatformDescription {
  os: NodeJS.Platform;
  arch: string;
  /** `glibc` or `musl` on Linux, `null` elsewhere. */
  libc: 'glibc' | 'musl' | null;
}

export function describePlatform(): PlatformDescription {
  if (process.platform !== 'linux') return { os: process.platform, arch: process.arch, libc: null };
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return { os: process.platform, arch: process.arch, libc: header?.glibcVersionRuntime ? 'glibc' : 'musl' };
}

/** The platforms whose binary packages this release of `@keel/native` depends on. */
export function prebuiltPlatforms(manifest: { optionalDependencies?: Record<string, string> }): string[] {
  return Object.keys(manifest.optionalDependencies ?? {})
    .filter((name) => name.startsWith(PLATFORM_PACKAGE_PREFIX))
    .map((name) => name.slice(PLATFORM_PACKAGE_PREFIX.length))
    .sort();
}

export function unavailableBindingError(platform: PlatformDescription, prebuilt: string[], cause: unknown): Error {
  const where = `os ${platform.os}, arch ${platform.arch}${platform.libc ? `, libc ${platform.libc}` : ''}`;
  const offered = prebuilt.length > 0 ? prebuilt.join(', ') : 'none in this copy';
  const error = new Error(
    `@keel/native: no usable native binary for this platform (${where}). ` +
      `Prebuilt binaries: ${offered}. ${SOURCE_BUILD_HELP}`,
    { cause },
  ) as Error & { code: string };
  error.code = 'KEEL_NATIVE_UNAVAILABLE';
  return error;
}

export function loadBinding<Binding>(): Binding {
  try {
    // Same relative path from src/ (sources, tests) and dist/ (the published build).
    return require('../binding/index.cjs') as Binding;
  } catch (cause) {
    const manifest = require('../package.json') as { optionalDependencies?: Record<string, string> };
    throw unavailableBindingError(describePlatform(), prebuiltPlatforms(manifest), cause);
  }
}
