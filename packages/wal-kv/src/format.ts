import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, KeelError, STORE_ID_BYTES, STORE_LOCK_FILE_NAME, checkFrameAt, crc32c, defineFrameFormat, encodeFrame, frameBytes, sealFrameRun, writeFrameHeader } from '@keel/core';
import { writeKey, type KeyBytes } from './encoding.js';
import { RECORD_PAYLOAD_BYTES_MAX } from './limits.js';

/**
 * Bytes on disk of the log (see the Format section of the README).
 *
 * A log file `wal-<generation>.log` is a sequence of core frames:
 *   header frame  magic "WKVH": version u16, reserved u16, generation u32, base seq u64, store id (16 bytes)
 *   record frames magic "WKVR": operation count u32, place u32, then per operation
 *     type u8 (1 put, 2 delete) | key length u16 | value length u32 | seq u64 | key
 *     and for a put: value CRC-32C u32 (over the key, then the value) | value
 * All integers little-endian. One record frame holds one put, one delete or one whole
 * batch, so the frame CRC makes a batch all-or-nothing. `place` (version 3) is the
 * CRC-32C of the frame's offset (u64) and the log's generation (u32), under the frame
 * CRC: a whole frame written at another offset, or copied from another generation,
 * fails replay.
 */
export const LOG_FORMAT_VERSION = 3;
export const LOG_HEADER_FORMAT = defineFrameFormat(0x574b_5648, 64);
export const LOG_RECORD_FORMAT = defineFrameFormat(0x574b_5652, RECORD_PAYLOAD_BYTES_MAX);
/** Core's store id, carried by every log header and snapshot. */
export { STORE_ID_BYTES };
export const LOG_HEADER_PAYLOAD_BYTES = 16 + STORE_ID_BYTES;
export const LOG_HEADER_FRAME_BYTES = LOG_HEADER_PAYLOAD_BYTES + 12;

export const OPERATION_PUT = 1;
export const OPERATION_DELETE = 2;
/** type + key length + value length + seq. */
export const OPERATION_HEADER_BYTES = 15;
export const VALUE_CRC_BYTES = 4;
/** Operation count u32 and place u32. */
export const RECORD_HEADER_BYTES = 8;
const RECORD_PLACE_AT = 4;

const TWO_TO_32 = 0x1_0000_0000;

export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_TO_32), true);
}

/** Reads a u64 that must be a safe integer; null when it is not. */
export function readU64(view: DataView, offset: number): number | null {
  const high = view.getUint32(offset + 4, true);
  if (high > 0x1f_ffff) return null;
  return high * TWO_TO_32 + view.getUint32(offset, true);
}

/** The place a record frame at `frameOffset` of log generation `generation` carries (see above). */
export function recordPlace(frameOffset: number, generation: number): number {
  const bytes = new Uint8Array(12);
  const view = viewOf(bytes);
  writeU64(view, 0, frameOffset);
  view.setUint32(8, generation, true);
  return crc32c(bytes);
}

/** Writes the place of the record frame starting at `target[frameStart]`. */
export function writeRecordPlace(target: Uint8Array, frameStart: number, frameOffset: number, generation: number): void {
  viewOf(target).setUint32(frameStart + FRAME_HEADER_BYTES + RECORD_PLACE_AT, recordPlace(frameOffset, generation), true);
}

/** Whether the record frame at `frame[0..]` (whole, checked) carries the place of `frameOffset` in `generation`. */
export function hasRecordPlace(frame: Uint8Array, frameOffset: number, generation: number): boolean {
  return frame.length >= FRAME_HEADER_BYTES + RECORD_HEADER_BYTES && viewOf(frame).getUint32(FRAME_HEADER_BYTES + RECORD_PLACE_AT, true) === recordPlace(frameOffset, generation);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface LogHeader {
  version: number;
  generation: number;
  /** The highest seq written before this generation began. */
  baseSeq: number;
  /** The store's identity (its STORE file): a log copied from another store is foreign. */
  storeId: Uint8Array;
}

export function encodeLogHeader(header: LogHeader): Uint8Array {
  const payload = new Uint8Array(LOG_HEADER_PAYLOAD_BYTES);
  const view = viewOf(payload);
  view.setUint16(0, header.version, true);
  view.setUint32(4, header.generation, true);
  writeU64(view, 8, header.baseSeq);
  payload.set(header.storeId, 16);
  return encodeFrame(payload, LOG_HEADER_FORMAT);
}

/** What every log starts with (frame magic, header length, version, reserved): a `.tmp` log that does not is not ours. */
export const LOG_SIGNATURE = encodeLogHeader({ version: LOG_FORMAT_VERSION, generation: 0, baseSeq: 0, storeId: new Uint8Array(STORE_ID_BYTES) }).subarray(0, FRAME_HEADER_BYTES + 4);

/**
 * Decodes the header frame at the start of `bytes`; throws KEEL_CORRUPT if it is not
 * ours and KEEL_UNSUPPORTED for another format version (1, before store identities and
 * key-bound value checksums, and 2, before records were bound to their place, included).
 */
export function decodeLogHeader(bytes: Uint8Array, path: string): LogHeader {
  const check = checkFrameAt(bytes, 0, LOG_HEADER_FORMAT);
  if (!check.ok) throw new KeelError('KEEL_CORRUPT', `${path} does not start with a wal-kv log header (${check.state}); it was left untouched`, { path, offset: 0 });
  const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + check.payloadLength);
  const version = payload.length >= 2 ? viewOf(payload).getUint16(0, true) : 0;
  if (version !== LOG_FORMAT_VERSION) {
    throw new KeelError('KEEL_UNSUPPORTED', `${path} is wal-kv log format version ${version}; this build reads version ${LOG_FORMAT_VERSION} only. It was left untouched`, { path, offset: 0 });
  }
  if (payload.length !== LOG_HEADER_PAYLOAD_BYTES) throw new KeelError('KEEL_CORRUPT', `${path} has a log header of ${payload.length} bytes; it was left untouched`, { path, offset: 0 });
  const view = viewOf(payload);
  const baseSeq = readU64(view, 8);
  if (baseSeq === null) throw new KeelError('KEEL_CORRUPT', `${path} has a base seq beyond 2^53`, { path, offset: 0 });
  return { version, generation: view.getUint32(4, true), baseSeq, storeId: payload.slice(16, 16 + STORE_ID_BYTES) };
}

export function operationBytes(keyLength: number, valueLength: number | null): number {
  return OPERATION_HEADER_BYTES + keyLength + (valueLength === null ? 0 : VALUE_CRC_BYTES + valueLength);
}

/** Writes the fixed fields of one operation at `offset`. */
export function encodeOperationHeader(view: DataView, offset: number, type: number, keyLength: number, valueLength: number, seq: number): void {
  view.setUint8(offset, type);
  view.setUint16(offset + 1, keyLength, true);
  view.setUint32(offset + 3, valueLength, true);
  writeU64(view, offset + 7, seq);
}

/**
 * Encodes the operations of `keys` and `values` (a put of `values[i]` under `keys[i]`,
 * a delete where it is null) with consecutive seqs from `firstSeq` as the payload of a
 * record frame at `target[frameStart..]`, with its frame header; the place, the value
 * CRCs and the frame CRC are left for the index's `commitRecord`, which fills them in
 * and applies the record in one native call. Returns the frame's end in `target`.
 */
export function encodeRecordFrame(target: Buffer, frameStart: number, keys: readonly KeyBytes[], values: ReadonlyArray<Uint8Array | null>, payloadBytes: number, firstSeq: number): number {
  writeFrameHeader(target, frameStart, payloadBytes, LOG_RECORD_FORMAT);
  const payloadStart = frameStart + FRAME_HEADER_BYTES;
  const view = new DataView(target.buffer, target.byteOffset + payloadStart, payloadBytes);
  view.setUint32(0, keys.length, true);
  let offset = RECORD_HEADER_BYTES;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = values[i]!;
    const valueLength = value === null ? 0 : value.length;
    encodeOperationHeader(view, offset, value === null ? OPERATION_DELETE : OPERATION_PUT, key.length, valueLength, firstSeq + i);
    writeKey(target, key, payloadStart + offset + OPERATION_HEADER_BYTES);
    offset += OPERATION_HEADER_BYTES + key.length;
    if (value === null) continue;
    target.set(value, payloadStart + offset + VALUE_CRC_BYTES);
    offset += VALUE_CRC_BYTES + valueLength;
  }
  if (offset !== payloadBytes) throw new Error(`record encoding wrote ${offset} bytes into ${payloadBytes}`);
  return payloadStart + payloadBytes + FRAME_TRAILER_BYTES;
}

/**
 * Completes a record frame whose payload (value CRCs included) is already in place
 * (compaction copies verified CRCs and values): magic, length and frame CRC-32C.
 * Returns the frame's size.
 */
export function sealRecordFrame(buffer: Uint8Array, start: number, payloadBytes: number): number {
  writeFrameHeader(buffer, start, payloadBytes, LOG_RECORD_FORMAT);
  const end = start + frameBytes(payloadBytes);
  sealFrameRun(buffer.subarray(start, end));
  return end - start;
}

const LOG_NAME = /^wal-(\d{1,10})\.log$/;
const SNAPSHOT_NAME = /^snapshot-(\d{1,16})\.snap$/;
/** The directory lock, named as every keel store names it (core's STORE_LOCK_FILE_NAME). */
export const LOCK_FILE_NAME = STORE_LOCK_FILE_NAME;
export const TEMPORARY_SUFFIX = '.tmp';

export function logFileName(generation: number): string {
  return `wal-${generation}.log`;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${seq}.snap`;
}

export function parseLogFileName(name: string): number | null {
  const match = LOG_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

export function parseSnapshotFileName(name: string): number | null {
  const match = SNAPSHOT_NAME.exec(name);
  return match ? Number(match[1]) : null;
}
