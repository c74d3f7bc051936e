import { KeelError, crc32c, type Io } from '@keel/core';
import { PAYLOAD_BYTES_MAX } from './format.js';
import type { PayloadRef } from './payload-ref.js';

/**
 * The durable record of a finished but uncommitted compaction:
 *
 *   magic          u32 BE  "KPSM"
 *   version        u16 LE  1
 *   reserved       u16 LE  0
 *   output segment u32 LE
 *   source count   u32 LE
 *   entry count    u32 LE
 *   sources        u32 LE × source count
 *   entries        (old segment u32, old offset u64, length u32, new offset u64) LE × entry count
 *   crc            u32 LE  CRC-32C of everything before it
 */
export const MAPPING_MAGIC = 0x4b50_534d;
export const MAPPING_FORMAT_VERSION = 1;
export const MAPPING_HEADER_BYTES = 20;
export const MAPPING_SOURCE_BYTES = 4;
export const MAPPING_ENTRY_BYTES = 24;
export const MAPPING_TRAILER_BYTES = 4;
/** Bounds the read of a mapping file before anything is allocated for it. */
export const MAPPING_FILE_BYTES_MAX = 2 ** 31 - 1;

export interface MappingEntry {
  readonly from: PayloadRef;
  readonly to: PayloadRef;
}

export interface MappingRecord {
  readonly output: number;
  readonly sources: readonly number[];
  readonly entries: readonly MappingEntry[];
}

export function encodeMapping(record: MappingRecord): Uint8Array {
  const total = MAPPING_HEADER_BYTES + record.sources.length * MAPPING_SOURCE_BYTES + record.entries.length * MAPPING_ENTRY_BYTES + MAPPING_TRAILER_BYTES;
  if (total > MAPPING_FILE_BYTES_MAX) throw new KeelError('KEEL_TOO_LARGE', `a compaction of ${record.entries.length} payloads needs a mapping larger than ${MAPPING_FILE_BYTES_MAX} bytes`);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAPPING_MAGIC, false);
  view.setUint16(4, MAPPING_FORMAT_VERSION, true);
  view.setUint32(8, record.output, true);
  view.setUint32(12, record.sources.length, true);
  view.setUint32(16, record.entries.length, true);
  let position = MAPPING_HEADER_BYTES;
  for (const source of record.sources) {
    view.setUint32(position, source, true);
    position += MAPPING_SOURCE_BYTES;
  }
  for (const { from, to } of record.entries) {
    view.setUint32(position, from.segment, true);
    view.setBigUint64(position + 4, BigInt(from.offset), true);
    view.setUint32(position + 12, from.length, true);
    view.setBigUint64(position + 16, BigInt(to.offset), true);
    position += MAPPING_ENTRY_BYTES;
  }
  view.setUint32(position, crc32c(bytes.subarray(0, position)), true);
  return bytes;
}

/** Reads and verifies a mapping file; null when it is torn or not a mapping (never written completely). */
export function readMapping(io: Io, path: string, output: number): MappingRecord | null {
  const file = io.open(path);
  try {
    const size = file.sizeSync();
    if (size < MAPPING_HEADER_BYTES + MAPPING_TRAILER_BYTES || size > MAPPING_FILE_BYTES_MAX) return null;
    const bytes = new Uint8Array(size);
    if (file.readSync(bytes, 0) !== size) return null;
    return decodeMapping(bytes, output);
  } finally {
    file.closeSync();
  }
}

export function decodeMapping(bytes: Uint8Array, output: number): MappingRecord | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, false) !== MAPPING_MAGIC || view.getUint16(4, true) !== MAPPING_FORMAT_VERSION) return null;
  const sourceCount = view.getUint32(12, true);
  const entryCount = view.getUint32(16, true);
  const expected = MAPPING_HEADER_BYTES + sourceCount * MAPPING_SOURCE_BYTES + entryCount * MAPPING_ENTRY_BYTES + MAPPING_TRAILER_BYTES;
  if (expected !== bytes.length) return null;
  const crcAt = bytes.length - MAPPING_TRAILER_BYTES;
  if (crc32c(bytes.subarray(0, crcAt)) !== view.getUint32(crcAt, true)) return null;
  if (view.getUint32(8, true) !== output) return null;
  const sources: number[] = [];
  let position = MAPPING_HEADER_BYTES;
  for (let index = 0; index < sourceCount; index++, position += MAPPING_SOURCE_BYTES) sources.push(view.getUint32(position, true));
  const entries: MappingEntry[] = [];
  for (let index = 0; index < entryCount; index++, position += MAPPING_ENTRY_BYTES) {
    const length = view.getUint32(position + 12, true);
    if (length > PAYLOAD_BYTES_MAX) return null;
    const from = { segment: view.getUint32(position, true), offset: Number(view.getBigUint64(position + 4, true)), length };
    entries.push({ from, to: { segment: output, offset: Number(view.getBigUint64(position + 16, true)), length } });
  }
  return { output, sources, entries };
}
