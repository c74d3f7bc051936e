import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkFrameAt, encodeFrame, getSafeUint64, startsAsOurs } from '@keel/core';
import { CLEAN_SHUTDOWN_BYTES, CLEAN_SHUTDOWN_FORMAT, CLEAN_SHUTDOWN_PAYLOAD_BYTES, CLEAN_SHUTDOWN_VERSION, LSN_MAX, RECORD_BYTES_MAX } from './format.js';

/** What a clean close vouches for: the journal as it was, whole and durable, when the record was written. */
export interface CleanShutdownRecord {
  /** The valid end: the file's size and the next LSN. */
  end: number;
  /** Frames in the journal. */
  records: number;
  /** Offset of the last frame's first byte (0 in an empty journal). */
  lastFrameAt: number;
  /** The last frame's CRC-32C, as its trailer holds it (0 in an empty journal). */
  lastFrameCrc: number;
}

export type DecodedCleanShutdown =
  | { readonly kind: 'record'; readonly record: CleanShutdownRecord }
  /** Our frame at our size, but not one this build can trust: damaged, another version, or values no close writes. */
  | { readonly kind: 'unusable'; readonly reason: string }
  /** Not a clean-shutdown record at all: never modified. */
  | { readonly kind: 'foreign'; readonly reason: string };

const PAYLOAD_AT = FRAME_HEADER_BYTES;
/** Magic and length: what every record starts with, whatever its version; known before it is written. */
const SIGNATURE_BYTES = FRAME_HEADER_BYTES;

// The payload layout below fills the payload exactly.
if (CLEAN_SHUTDOWN_PAYLOAD_BYTES !== 2 + 2 + 4 + 8 + 8 + 8) throw new Error('CLEAN_SHUTDOWN_PAYLOAD_BYTES does not match its layout');

export function encodeCleanShutdown(record: CleanShutdownRecord): Uint8Array {
  const reason = impossibility(record);
  // A programmer error: close only describes a journal it holds.
  if (reason !== null) throw new Error(`refusing to write a clean-shutdown record that ${reason}`);
  const payload = new Uint8Array(CLEAN_SHUTDOWN_PAYLOAD_BYTES);
  const view = new DataView(payload.buffer);
  view.setUint16(0, CLEAN_SHUTDOWN_VERSION, true);
  view.setUint32(4, record.lastFrameCrc, true);
  view.setBigUint64(8, BigInt(record.end), true);
  view.setBigUint64(16, BigInt(record.lastFrameAt), true);
  view.setBigUint64(24, BigInt(record.records), true);
  return encodeFrame(payload, CLEAN_SHUTDOWN_FORMAT);
}

/** Reads a record's bytes (the whole file, which must be exactly one record long). */
export function decodeCleanShutdown(bytes: Uint8Array): DecodedCleanShutdown {
  if (bytes.length !== CLEAN_SHUTDOWN_BYTES) return { kind: 'foreign', reason: `it holds ${bytes.length} bytes, not ${CLEAN_SHUTDOWN_BYTES}` };
  if (!startsAsSignature(bytes)) return { kind: 'foreign', reason: 'it does not start with the record magic and length' };
  const check = checkFrameAt(bytes, 0, CLEAN_SHUTDOWN_FORMAT);
  if (!check.ok) return { kind: 'unusable', reason: `it is damaged (${check.state})` };
  const view = new DataView(bytes.buffer, bytes.byteOffset + PAYLOAD_AT, CLEAN_SHUTDOWN_PAYLOAD_BYTES);
  const version = view.getUint16(0, true);
  if (version !== CLEAN_SHUTDOWN_VERSION) return { kind: 'unusable', reason: `it has version ${version}; this build reads version ${CLEAN_SHUTDOWN_VERSION}` };
  if (view.getUint16(2, true) !== 0) return { kind: 'unusable', reason: 'its reserved field is not zero' };
  const end = getSafeUint64(view, 8);
  const lastFrameAt = getSafeUint64(view, 16);
  const records = getSafeUint64(view, 24);
  if (end === null || lastFrameAt === null || records === null) return { kind: 'unusable', reason: 'it holds a position past 2^53 − 1' };
  const record: CleanShutdownRecord = { end, records, lastFrameAt, lastFrameCrc: view.getUint32(4, true) };
  const reason = impossibility(record);
  return reason === null ? { kind: 'record', record } : { kind: 'unusable', reason: `it ${reason}` };
}

/** Whether a temporary's bytes are what a close that crashed can leave: a prefix of a record, holes read as zeros. */
export function isTornCleanShutdown(bytes: Uint8Array): boolean {
  return bytes.length <= CLEAN_SHUTDOWN_BYTES && startsAsOurs(bytes, signature());
}

function startsAsSignature(bytes: Uint8Array): boolean {
  const expected = signature();
  return expected.every((byte, index) => bytes[index] === byte);
}

let cachedSignature: Uint8Array | null = null;

function signature(): Uint8Array {
  cachedSignature ??= encodeCleanShutdown({ end: 0, records: 0, lastFrameAt: 0, lastFrameCrc: 0 }).slice(0, SIGNATURE_BYTES);
  return cachedSignature;
}

/**
 * Why no clean close could have written these values, or null: the end is a valid LSN,
 * an empty journal names no frame, and otherwise the last frame fits between its offset
 * and the end, within the largest record, after at least `records − 1` smaller frames.
 */
function impossibility(record: CleanShutdownRecord): string | null {
  const { end, records, lastFrameAt, lastFrameCrc } = record;
  if (!Number.isSafeInteger(end) || end < 0 || end > LSN_MAX) return `names an end (${end}) that is not an LSN`;
  if (!Number.isInteger(lastFrameCrc) || lastFrameCrc < 0 || lastFrameCrc > 0xffff_ffff) return `names a CRC (${lastFrameCrc}) that is not a u32`;
  if (records === 0) return end === 0 && lastFrameAt === 0 && lastFrameCrc === 0 ? null : 'names no records but an end, a last frame or a CRC';
  if (!Number.isSafeInteger(records) || records < 0 || records > Math.floor(end / FRAME_OVERHEAD_BYTES)) return `names ${records} records, more than ${end} bytes can hold`;
  const lastFrameBytes = end - lastFrameAt;
  if (!Number.isSafeInteger(lastFrameAt) || lastFrameAt < 0 || lastFrameBytes < FRAME_OVERHEAD_BYTES || lastFrameBytes > FRAME_OVERHEAD_BYTES + RECORD_BYTES_MAX) {
    return `names a last frame at ${lastFrameAt} that is no frame ending at ${end}`;
  }
  if (lastFrameAt < (records - 1) * FRAME_OVERHEAD_BYTES) return `names ${records} records before offset ${lastFrameAt}, more than fit there`;
  return null;
}
