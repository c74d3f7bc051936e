// How a package's vitest config takes in tests that need a real S3 store:
//
//   export default withCephTests(sharedConfig, 'test/ceph/**');
//
// Where Ceph can run, the tests matching the pattern run against a cluster that
// global-setup.mjs boots for the run. Where it cannot (no Debian packages, not Linux),
// they are left out with one line saying so and why, and everything else runs; except
// under CI, where the global setup runs anyway and fails the run, so a CI that lost Ceph
// cannot pass without its tiered-storage tests.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, mergeConfig } from 'vitest/config';

import { cephAvailability } from './cluster.mjs';

const GLOBAL_SETUP = join(dirname(fileURLToPath(import.meta.url)), 'global-setup.mjs');

/** The `test` options that run (or leave out) the tests matching `pattern`. */
export function cephTests(pattern) {
  const availability = cephAvailability();
  if (availability.available || process.env.CI) return { globalSetup: [GLOBAL_SETUP] };
  console.log(`tiered-storage tests (${pattern}) did not run: ${availability.reason}`);
  return { exclude: [...configDefaults.exclude, pattern] };
}

/**
 * `config` with the Ceph tests added. It also drops the "module" resolve condition: the
 * AWS SDK's packages export a "module" build for bundlers whose imports have no file
 * extensions, which Node cannot load; without that condition Node gets their "node" builds.
 */
export function withCephTests(config, pattern) {
  return withoutModuleCondition(mergeConfig(config, { test: cephTests(pattern) }));
}

/**
 * `config` without the "module" resolve condition, for test runs that load the AWS SDK
 * (whose "module" builds import files without extensions, which Node cannot load).
 */
export function withoutModuleCondition(config) {
  const merged = mergeConfig(config, {});
  const withoutModule = (conditions) => (conditions ?? []).filter((condition) => condition !== 'module');
  merged.resolve = { ...merged.resolve, conditions: withoutModule(merged.resolve?.conditions) };
  merged.ssr = { ...merged.ssr, resolve: { ...merged.ssr?.resolve, conditions: withoutModule(merged.ssr?.resolve?.conditions) } };
  return merged;
}
