import { describeBackend, referenceLogAdapter } from '../src/index.js';

describeBackend(referenceLogAdapter());
