/**
 * @keel/remote-s3's public API: core's RemoteStore on S3 and S3-compatible stores.
 */
export { S3RemoteStore, type S3RemoteStoreStats } from './s3-remote-store.js';
export { WorkerS3RemoteStore, type WorkerS3RemoteStoreOptions } from './worker-s3-remote-store.js';
export {
  ATTEMPTS_MAX_DEFAULT, BACKOFF_BASE_MS_DEFAULT, BACKOFF_MAX_MS_DEFAULT, CONNECT_TIMEOUT_MS_DEFAULT,
  MULTIPART_THRESHOLD_BYTES_DEFAULT, PARTS_MAX, PART_BYTES_DEFAULT, PART_BYTES_MAX, PART_BYTES_MIN, PART_CONCURRENCY_DEFAULT,
  REQUEST_TIMEOUT_MS_DEFAULT, RETRY_TIMEOUT_MS_DEFAULT, type S3RemoteStoreOptions,
} from './options.js';
export { METADATA_BYTES, METADATA_CRC32C, METADATA_FORMAT, METADATA_FORMAT_VERSION } from './metadata.js';
