import { mergeConfig } from 'vitest/config';

import { cephTests } from '../../scripts/ceph/vitest-config.mjs';
import { sharedConfig } from '../../vitest.shared.js';

// The AWS SDK's packages export a "module" build for bundlers whose imports have no file
// extensions, which Node cannot load; without that condition Node gets their "node" builds.
const CONDITIONS = ['source', 'node', 'import', 'default'];

// test/ceph/ runs against a real single-node Ceph (S3 through radosgw) booted for the run.
const config = mergeConfig(sharedConfig, { test: cephTests('test/ceph/**') });
config.resolve = { ...config.resolve, conditions: CONDITIONS };
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: CONDITIONS } };

export default config;
