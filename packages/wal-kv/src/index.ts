export { WalKv } from './wal-kv.js';
export type { WalKvOptions } from './options.js';
export type { ReadView } from './read-view.js';
export type { RangeOptions } from './range.js';
export type { WalKvStats } from './stats.js';
export type { BatchOperation, ConditionalBatchOperation } from './batch.js';
export type { Key, KeyEncoding, ValueEncoding } from './encoding.js';
export { KEY_BYTES_MAX, VALUE_BYTES_MAX, RECORD_PAYLOAD_BYTES_MAX, BATCH_OPERATIONS_MAX, KEYS_MAX, CHECKPOINT_EVERY_BYTES_DEFAULT, COMPACT_WHEN_GARBAGE_RATIO_DEFAULT, COMPACT_LOG_BYTES_MIN } from './limits.js';
