// How a package's vitest config takes in tests that need a real S3 store:
//
//   export default mergeConfig(sharedConfig, { test: cephTests('test/ceph/**') });
//
// Where Ceph can run, the tests matching `pattern` run against a cluster that
// global-setup.mjs boots for the run. Where it cannot (no Debian packages, not Linux),
// they are left out with one line saying so and why, and everything else runs; except
// under CI, where the global setup runs anyway and fails the run, so a CI that lost Ceph
// cannot pass without its tiered-storage tests.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults } from 'vitest/config';

import { cephAvailability } from './cluster.mjs';

const GLOBAL_SETUP = join(dirname(fileURLToPath(import.meta.url)), 'global-setup.mjs');

export function cephTests(pattern) {
  const availability = cephAvailability();
  if (availability.available || process.env.CI) return { globalSetup: [GLOBAL_SETUP] };
  console.log(`tiered-storage tests (${pattern}) did not run: ${availability.reason}`);
  return { exclude: [...configDefaults.exclude, pattern] };
}
