import { withoutModuleCondition } from '../../scripts/ceph/vitest-config.mjs';
import { sharedConfig } from '../../vitest.shared.js';

// The tiered scenarios load the AWS SDK, which Node loads only without the "module" condition.
export default withoutModuleCondition(sharedConfig);
