import { KeelError, STORE_ID_BYTES, checkFrameAt, encodeFrame, joinPath, removeIfPresent, sameStoreId, writeFileDurably, type FrameFormat, type Io } from '@keel/core';
import { HEADER_PAYLOAD_BYTES, STORE_ID_AT, getUint64, versionedOffsetPayload, viewOf } from './format.js';

/**
 * A small file of one frame naming an offset of this log (the log-start checkpoint, the
 * clean-shutdown record): version u16, reserved u16, offset u64 and the store id. Written
 * as a temporary, datasynced, renamed over and the directory synced.
 */
export interface OffsetRecordKind {
  /** How messages name it: "log-start checkpoint". */
  readonly what: string;
  readonly fileName: string;
  readonly temporaryName: string;
  readonly format: FrameFormat;
  readonly version: number;
}

/** One record: the frame around a header-shaped payload. */
export const RECORD_BYTES = HEADER_PAYLOAD_BYTES + 12;

export function encodeOffsetRecord(kind: Pick<OffsetRecordKind, 'format' | 'version'>, offset: number, storeId: Uint8Array): Uint8Array {
  return encodeFrame(versionedOffsetPayload(kind.version, offset, storeId), kind.format);
}

export function corrupt(kind: Pick<OffsetRecordKind, 'what'>, path: string, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${kind.what} ${path} ${what}; it is not ours or is damaged, and nothing was changed`, { path, offset: 0 });
}

/**
 * The offset the record names, or null when there is none. Reads at most one record's
 * bytes: a file of any other size, version, checksum or store id is refused.
 */
export function readOffsetRecord(io: Io, dir: string, kind: OffsetRecordKind, storeId: Uint8Array): number | null {
  const path = joinPath(dir, kind.fileName);
  const temporary = io.stat(joinPath(dir, kind.temporaryName));
  // A leftover temporary is a write a crash cut short; the next write replaces it.
  if (temporary !== null && !temporary.isFile) throw corrupt(kind, joinPath(dir, kind.temporaryName), 'is not a regular file');
  const stat = io.stat(path);
  if (stat === null) return null;
  if (!stat.isFile) throw corrupt(kind, path, 'is not a regular file');
  if (stat.size !== RECORD_BYTES) throw corrupt(kind, path, `holds ${stat.size} bytes, not ${RECORD_BYTES}`);
  const bytes = new Uint8Array(RECORD_BYTES);
  const file = io.open(path);
  try {
    if (file.readSync(bytes, 0) !== RECORD_BYTES) throw corrupt(kind, path, 'was cut short while being read');
  } finally {
    file.closeSync();
  }
  const check = checkFrameAt(bytes, 0, kind.format);
  if (!check.ok || check.frameBytes !== RECORD_BYTES) throw corrupt(kind, path, `is not one ${kind.what} frame (${check.ok ? 'wrong size' : check.state})`);
  return offsetRecordPayload(kind, path, bytes.subarray(8, 8 + HEADER_PAYLOAD_BYTES), storeId);
}

/**
 * The offset a checksummed record's payload names, once its version, reserved field and
 * store id are this log's: anything else is refused.
 */
export function offsetRecordPayload(kind: Pick<OffsetRecordKind, 'what' | 'version'>, path: string, payload: Uint8Array, storeId: Uint8Array): number {
  const view = viewOf(payload);
  const version = view.getUint16(0, true);
  if (version !== kind.version) throw corrupt(kind, path, `has version ${version}; this build reads version ${kind.version}`);
  const offset = getUint64(view, 4);
  if (view.getUint16(2, true) !== 0 || offset === null) throw corrupt(kind, path, 'holds values out of range');
  if (!sameStoreId(payload.subarray(STORE_ID_AT, STORE_ID_AT + STORE_ID_BYTES), storeId)) throw corrupt(kind, path, 'names another store id (it was copied from another log)');
  return offset;
}

/**
 * Makes `offset` the record's durable value. Until the rename is durable a crash leaves
 * the previous record (or none).
 */
export async function writeOffsetRecord(io: Io, dir: string, kind: OffsetRecordKind, offset: number, storeId: Uint8Array): Promise<void> {
  const temporary = joinPath(dir, kind.temporaryName);
  // A leftover (its survey allowed only a regular file) is a write a crash cut short.
  removeIfPresent(io, temporary);
  await writeFileDurably(io, joinPath(dir, kind.fileName), encodeOffsetRecord(kind, offset, storeId), { temporaryPath: temporary });
}
