import { describeBackend } from '@keel/conformance';
import { segmentLogAdapter } from './conformance-adapter.js';

describeBackend(segmentLogAdapter);
