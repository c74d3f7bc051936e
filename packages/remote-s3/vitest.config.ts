import { withCephTests } from '../../scripts/ceph/vitest-config.mjs';
import { sharedConfig } from '../../vitest.shared.js';

// test/ceph/ runs against a real single-node Ceph (S3 through radosgw) booted for the run.
export default withCephTests(sharedConfig, 'test/ceph/**');
