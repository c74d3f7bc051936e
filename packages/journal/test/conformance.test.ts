import { describeBackend } from '@keel/conformance';
import { journalAdapter } from './conformance-adapter.js';

describeBackend(journalAdapter);
