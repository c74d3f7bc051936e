export { detectStore, BACKENDS, type BackendName, type Detected } from './detect.js';
export { openStore, type StoreView, type DumpRecord, type DumpRange, type OpenOptions } from './stores.js';
