export { Journal, type JournalStats } from './journal.js';
export { JournalReader, type JournalReaderOptions } from './reader.js';
export type { JournalOptions } from './options.js';
export type { JournalRecord } from './records.js';
export type { JournalBatch } from './batch-scan.js';
export { DIRECT_IO_ALIGNMENT_BYTES, JOURNAL_FRAME_FORMAT, LSN_MAX, RECORD_BYTES_MAX, WRITE_BUFFER_BYTES_DEFAULT } from './format.js';
