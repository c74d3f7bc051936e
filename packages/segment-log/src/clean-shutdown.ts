import { joinPath, removeIfPresent, type Io } from '@keel/core';
import { CLEAN_SHUTDOWN_FILE_NAME, CLEAN_SHUTDOWN_FORMAT, CLEAN_SHUTDOWN_TEMPORARY_NAME, CLEAN_SHUTDOWN_VERSION } from './format.js';
import { readOffsetRecord, writeOffsetRecord, type OffsetRecordKind } from './offset-record.js';

/**
 * Kafka's clean-shutdown file: close writes it once everything is durable, naming the
 * log's next offset; open removes it before anything can be appended. While it names
 * exactly the end open found, every sealed segment was durable when the log closed, and
 * open need not sync them again.
 */
const CLEAN_SHUTDOWN: OffsetRecordKind = {
  what: 'clean-shutdown record',
  fileName: CLEAN_SHUTDOWN_FILE_NAME,
  temporaryName: CLEAN_SHUTDOWN_TEMPORARY_NAME,
  format: CLEAN_SHUTDOWN_FORMAT,
  version: CLEAN_SHUTDOWN_VERSION,
};

/** The next offset a clean close recorded, or null (refuses a record that is not this log's). */
export function readCleanShutdown(io: Io, dir: string, storeId: Uint8Array): number | null {
  return readOffsetRecord(io, dir, CLEAN_SHUTDOWN, storeId);
}

export function writeCleanShutdown(io: Io, dir: string, nextOffset: number, storeId: Uint8Array): Promise<void> {
  return writeOffsetRecord(io, dir, CLEAN_SHUTDOWN, nextOffset, storeId);
}

/** Open's half: the record goes before the directory sync that precedes any append. */
export function removeCleanShutdown(io: Io, dir: string): void {
  removeIfPresent(io, joinPath(dir, CLEAN_SHUTDOWN_FILE_NAME));
}
