import { KeelError, STORE_ID_BYTES, checkFrameAt, encodeFrame, isKeelError, joinPath, sameStoreId, writeFileDurably, type Io } from '@keel/core';
import {
  LOG_START_BYTES,
  LOG_START_FILE_NAME,
  LOG_START_FORMAT,
  LOG_START_PAYLOAD_BYTES,
  LOG_START_TEMPORARY_NAME,
  LOG_START_VERSION,
  STORE_ID_AT,
  getUint64,
  versionedOffsetPayload,
  viewOf,
} from './format.js';

if (LOG_START_BYTES !== 40) throw new Error('the log-start checkpoint is one 40-byte frame');

export function encodeLogStart(startOffset: number, storeId: Uint8Array): Uint8Array {
  return encodeFrame(versionedOffsetPayload(LOG_START_VERSION, startOffset, storeId), LOG_START_FORMAT);
}

function corrupt(path: string, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `log-start checkpoint ${path} ${what}; it is not ours or is damaged, and nothing was changed`, { path, offset: 0 });
}

/**
 * The durable log start, or null when no deleteBefore ever wrote one. Reads at most
 * LOG_START_BYTES: a checkpoint of any other size, version, checksum or store id is refused.
 */
export function readLogStart(io: Io, dir: string, storeId: Uint8Array): number | null {
  const path = joinPath(dir, LOG_START_FILE_NAME);
  const temporary = io.stat(joinPath(dir, LOG_START_TEMPORARY_NAME));
  // A leftover temporary is a checkpoint write a crash cut short; the next write replaces it.
  if (temporary !== null && !temporary.isFile) throw corrupt(joinPath(dir, LOG_START_TEMPORARY_NAME), 'is not a regular file');
  const stat = io.stat(path);
  if (stat === null) return null;
  if (!stat.isFile) throw corrupt(path, 'is not a regular file');
  if (stat.size !== LOG_START_BYTES) throw corrupt(path, `holds ${stat.size} bytes, not ${LOG_START_BYTES}`);
  const bytes = new Uint8Array(LOG_START_BYTES);
  const file = io.open(path);
  try {
    if (file.readSync(bytes, 0) !== LOG_START_BYTES) throw corrupt(path, 'was cut short while being read');
  } finally {
    file.closeSync();
  }
  const check = checkFrameAt(bytes, 0, LOG_START_FORMAT);
  if (!check.ok || check.frameBytes !== LOG_START_BYTES) throw corrupt(path, `is not one checkpoint frame (${check.ok ? 'wrong size' : check.state})`);
  const payload = bytes.subarray(8, 8 + LOG_START_PAYLOAD_BYTES);
  const view = viewOf(payload);
  const version = view.getUint16(0, true);
  if (version !== LOG_START_VERSION) throw corrupt(path, `has version ${version}; this build reads version ${LOG_START_VERSION}`);
  const startOffset = getUint64(view, 4);
  if (view.getUint16(2, true) !== 0 || startOffset === null) throw corrupt(path, 'holds values out of range');
  if (!sameStoreId(payload.subarray(STORE_ID_AT, STORE_ID_AT + STORE_ID_BYTES), storeId)) throw corrupt(path, 'names another store id (it was copied from another log)');
  return startOffset;
}

/**
 * Makes `startOffset` the durable log start: the temporary is written and datasynced,
 * renamed over the checkpoint, and the directory synced. Until the rename is durable a
 * crash leaves the previous checkpoint (or none), which never names a start above a
 * segment that is still needed.
 */
export async function writeLogStart(io: Io, dir: string, startOffset: number, storeId: Uint8Array): Promise<void> {
  const temporary = joinPath(dir, LOG_START_TEMPORARY_NAME);
  // A leftover (its survey allowed only a regular file) is a write a crash cut short.
  removeIfPresent(io, temporary);
  await writeFileDurably(io, joinPath(dir, LOG_START_FILE_NAME), encodeLogStart(startOffset, storeId), { temporaryPath: temporary });
}

export function removeIfPresent(io: Io, path: string): void {
  try {
    io.remove(path);
  } catch (error) {
    if (!isKeelError(error, 'KEEL_NOT_FOUND')) throw error;
  }
}
