import { describeBackend } from '@keel/conformance';
import { walKvAdapter } from './conformance-adapter.js';

describeBackend(walKvAdapter);
