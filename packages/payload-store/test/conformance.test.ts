import { describeBackend } from '@keel/conformance';
import { payloadStoreAdapter } from './conformance-adapter.js';

describeBackend(payloadStoreAdapter);
