// The child the flush-thread test runs under strace: the rolling workload in every mode named.
import { runRollingChild } from '@keel/conformance';
import { flushThreadTarget } from './flush-thread-target.js';

await runRollingChild(flushThreadTarget(() => ''), process.argv.slice(2));
