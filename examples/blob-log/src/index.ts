export { BLOB_FILE_NAME, BLOB_FORMAT, BlobLog, type Blob, type BlobLogOptions } from './blob-log.js';
