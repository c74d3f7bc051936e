export { SegmentLog } from './segment-log.js';
export type { ReadOptions, ScanOptions, StreamOptions, SegmentInfo, SegmentLogStats } from './segment-log.js';
export type { SegmentLogOptions, RetentionOptions } from './options.js';
export type { VerifyLevel } from '@keel/core';
export type { AppendRecord, LogRecord } from './record.js';
export type { RecordBatch } from './record-batch.js';
export type { VerifyReport } from './verify.js';
export {
  FORMAT_VERSION,
  HEADER_MAGIC,
  BATCH_MAGIC,
  BATCH_FRAME_BYTES_TARGET,
  RECORD_BYTES_MAX,
  HEADER_COUNT_MAX,
  HEADER_NAME_BYTES_MAX,
  SEGMENT_BYTES_DEFAULT,
  SEGMENT_BYTES_MIN,
  SEGMENT_BYTES_MAX,
  INDEX_INTERVAL_BYTES_DEFAULT,
  LOCK_FILE_NAME,
} from './format.js';
export { RemoteSegmentLog } from './tiered/remote-segment-log.js';
export type { RemoteSegmentLogOptions } from './tiered/remote-segment-log.js';
export type { TieredOptions } from './tiered/tiered-options.js';
export type { TieredStats } from './tiered/tiered-storage.js';
