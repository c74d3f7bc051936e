import { withCephTests } from '../../scripts/ceph/vitest-config.mjs';
import { sharedConfig } from '../../vitest.shared.js';

// test/ceph/ (tiered storage) runs against a real single-node Ceph booted for the run.
export default withCephTests(sharedConfig, 'test/ceph/**');
