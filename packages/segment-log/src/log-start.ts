import type { Io } from '@keel/core';
import { LOG_START_BYTES, LOG_START_FILE_NAME, LOG_START_FORMAT, LOG_START_TEMPORARY_NAME, LOG_START_VERSION } from './format.js';
import { encodeOffsetRecord, readOffsetRecord, writeOffsetRecord, type OffsetRecordKind } from './offset-record.js';

if (LOG_START_BYTES !== 40) throw new Error('the log-start checkpoint is one 40-byte frame');

/** Kafka's log-start-offset checkpoint: segments below the offset it names are deleted. */
const LOG_START: OffsetRecordKind = {
  what: 'log-start checkpoint',
  fileName: LOG_START_FILE_NAME,
  temporaryName: LOG_START_TEMPORARY_NAME,
  format: LOG_START_FORMAT,
  version: LOG_START_VERSION,
};

export function encodeLogStart(startOffset: number, storeId: Uint8Array): Uint8Array {
  return encodeOffsetRecord(LOG_START, startOffset, storeId);
}

/** The durable log start, or null when no deleteBefore ever wrote one. */
export function readLogStart(io: Io, dir: string, storeId: Uint8Array): number | null {
  return readOffsetRecord(io, dir, LOG_START, storeId);
}

/**
 * Makes `startOffset` the durable log start. Until the rename is durable a crash leaves
 * the previous checkpoint (or none), which never names a start above a segment that is
 * still needed.
 */
export function writeLogStart(io: Io, dir: string, startOffset: number, storeId: Uint8Array): Promise<void> {
  return writeOffsetRecord(io, dir, LOG_START, startOffset, storeId);
}
