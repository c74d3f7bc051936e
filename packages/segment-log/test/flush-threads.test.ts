import { describeFlushThreads } from '@keel/conformance';
import { tempDir } from './helpers.js';
import { flushThreadTarget } from './support/flush-thread-target.js';

describeFlushThreads(flushThreadTarget(tempDir));
