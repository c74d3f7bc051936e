import { FRAME_OVERHEAD_BYTES, KeelError, POSITION_MAX, STORE_ID_BYTES, crc32c, getSafeUint64, startsAsOurs, writeUint64, type Io, type IoFile } from '@keel/core';
import { FRAME_BINDING_BYTES, PAYLOAD_BYTES_MAX, SEGMENT_HEADER_BYTES } from './format.js';
import type { PayloadRef } from './payload-ref.js';

/**
 * The durable record of a finished but uncommitted compaction (format version 2):
 *
 *   magic          u32 BE  "KPSM"
 *   version        u16 LE  2
 *   reserved       u16 LE  0
 *   store id       16 bytes (the store's identity file)
 *   output segment u32 LE
 *   output order   u32 LE  (the order in the output's segment header)
 *   output bytes   u64 LE  (the output segment's exact size)
 *   source count   u32 LE
 *   entry count    u32 LE
 *   header crc     u32 LE  CRC-32C of bytes 0..47
 *   sources        u32 LE × source count, strictly ascending
 *   entries        (old segment u32, old offset u64, length u32, new offset u64) LE × entry count
 *   crc            u32 LE  CRC-32C of everything before it
 *
 * The header has its own checksum so that the counts that size the rest are trusted
 * before anything is allocated for them.
 */
export const MAPPING_MAGIC = 0x4b50_534d;
export const MAPPING_FORMAT_VERSION = 2;
export const MAPPING_HEADER_BYTES = 52;
const MAPPING_HEADER_CHECKED_BYTES = 48;
/** magic, version, reserved and store id: what every mapping of this store starts with. */
const MAPPING_PREFIX_BYTES = 8 + STORE_ID_BYTES;
export const MAPPING_SOURCE_BYTES = 4;
export const MAPPING_ENTRY_BYTES = 24;
export const MAPPING_TRAILER_BYTES = 4;
/**
 * Every moved payload is a frame of at least FRAME_OVERHEAD_BYTES plus its binding in the output, so an
 * output holds at most this many entries per byte; with the output's size recorded in
 * the header and checked against the file, the entries a mapping may announce are
 * bounded by what the output segment actually holds.
 */
export const MAPPING_ENTRY_MIN_OUTPUT_BYTES = FRAME_OVERHEAD_BYTES + FRAME_BINDING_BYTES;
/** The most payloads one compaction moves: a mapping larger than this is refused when written and when read. */
export const MAPPING_ENTRIES_MAX = 2 ** 27;
/** Sources are distinct segment numbers below the output; a compaction never names more. */
export const MAPPING_SOURCES_MAX = 2 ** 24;
export const MAPPING_FILE_BYTES_MAX = MAPPING_HEADER_BYTES + MAPPING_SOURCES_MAX * MAPPING_SOURCE_BYTES + MAPPING_ENTRIES_MAX * MAPPING_ENTRY_BYTES + MAPPING_TRAILER_BYTES;
// A mapping's body is read into one Buffer: its bound stays under Node's 4 GiB Buffer limit.
if (MAPPING_FILE_BYTES_MAX >= 2 ** 32) throw new Error('MAPPING_FILE_BYTES_MAX must fit one Buffer');

export interface MappingEntry {
  readonly from: PayloadRef;
  readonly to: PayloadRef;
}

export interface MappingRecord {
  readonly storeId: Uint8Array;
  readonly output: number;
  readonly outputOrder: number;
  readonly outputBytes: number;
  readonly sources: readonly number[];
  readonly entries: readonly MappingEntry[];
}

export interface MappingHeader {
  readonly storeId: Uint8Array;
  readonly output: number;
  readonly outputOrder: number;
  readonly outputBytes: number;
  readonly sourceCount: number;
  readonly entryCount: number;
}

export type MappingCheck =
  | { readonly state: 'valid'; readonly header: MappingHeader; readonly fileBytes: number }
  /** Ours (our magic, version and store id, each byte of them present or a hole) but never written completely. */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

export function mappingFileBytes(sourceCount: number, entryCount: number): number {
  return MAPPING_HEADER_BYTES + sourceCount * MAPPING_SOURCE_BYTES + entryCount * MAPPING_ENTRY_BYTES + MAPPING_TRAILER_BYTES;
}

export function encodeMapping(record: MappingRecord): Uint8Array {
  const encoder = new MappingEncoder(record, record.entries.length);
  for (const entry of record.entries) encoder.add(entry);
  return encoder.finish();
}

/** What a mapping says besides its entries. */
export type MappingSummary = Omit<MappingRecord, 'entries'>;

/**
 * Encodes a mapping whose entries arrive one at a time (compaction adds each as it moves
 * the payload), into one buffer sized for `entryCount` entries up front.
 */
export class MappingEncoder {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #entryCount: number;
  #added = 0;
  #position: number;

  constructor(summary: MappingSummary, entryCount: number) {
    if (entryCount > MAPPING_ENTRIES_MAX || summary.sources.length > MAPPING_SOURCES_MAX) {
      throw new KeelError('KEEL_TOO_LARGE', `a compaction of ${entryCount} payloads from ${summary.sources.length} segments exceeds MAPPING_ENTRIES_MAX (${MAPPING_ENTRIES_MAX}) or MAPPING_SOURCES_MAX (${MAPPING_SOURCES_MAX})`);
    }
    const bytes = new Uint8Array(mappingFileBytes(summary.sources.length, entryCount));
    const view = new DataView(bytes.buffer);
    bytes.set(mappingPrefix(summary.storeId), 0);
    view.setUint32(24, summary.output, true);
    view.setUint32(28, summary.outputOrder, true);
    writeUint64(view, 32, summary.outputBytes, 'a compaction output size');
    view.setUint32(40, summary.sources.length, true);
    view.setUint32(44, entryCount, true);
    view.setUint32(MAPPING_HEADER_CHECKED_BYTES, crc32c(bytes.subarray(0, MAPPING_HEADER_CHECKED_BYTES)), true);
    let position = MAPPING_HEADER_BYTES;
    for (const source of summary.sources) {
      view.setUint32(position, source, true);
      position += MAPPING_SOURCE_BYTES;
    }
    this.#bytes = bytes;
    this.#view = view;
    this.#entryCount = entryCount;
    this.#position = position;
  }

  add({ from, to }: MappingEntry): void {
    if (this.#added === this.#entryCount) throw new Error(`a mapping sized for ${this.#entryCount} entries got one more`);
    const view = this.#view;
    const position = this.#position;
    view.setUint32(position, from.segment, true);
    writeUint64(view, position + 4, from.offset, 'a mapped source offset');
    view.setUint32(position + 12, from.length, true);
    writeUint64(view, position + 16, to.offset, 'a mapped output offset');
    this.#position += MAPPING_ENTRY_BYTES;
    this.#added++;
  }

  /** The encoded mapping, its checksum filled in; every announced entry must have been added. */
  finish(): Uint8Array {
    if (this.#added !== this.#entryCount) throw new Error(`a mapping sized for ${this.#entryCount} entries got ${this.#added}`);
    this.#view.setUint32(this.#position, crc32c(this.#bytes.subarray(0, this.#position)), true);
    return this.#bytes;
  }
}

function mappingPrefix(storeId: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(MAPPING_PREFIX_BYTES);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, MAPPING_MAGIC, false);
  view.setUint16(4, MAPPING_FORMAT_VERSION, true);
  prefix.set(storeId, 8);
  return prefix;
}

/**
 * Reads only a mapping's fixed header and judges it: whose it is, and whether its counts
 * agree with the file's size and with their bounds. Nothing is allocated from the counts.
 */
export function checkMappingHeader(io: Io, path: string, storeId: Uint8Array | null): MappingCheck {
  const file = io.open(path);
  try {
    const fileBytes = file.sizeSync();
    const bytes = new Uint8Array(Math.min(fileBytes, MAPPING_HEADER_BYTES));
    return judgeMappingHeader(bytes.subarray(0, file.readSync(bytes, 0)), fileBytes, storeId);
  } finally {
    file.closeSync();
  }
}

export function judgeMappingHeader(bytes: Uint8Array, fileBytes: number, storeId: Uint8Array | null): MappingCheck {
  if (storeId === null) return { state: 'foreign', reason: 'the store has no identity yet, so no mapping can be its own' };
  const prefix = mappingPrefix(storeId);
  const head = bytes.subarray(0, MAPPING_PREFIX_BYTES);
  const ours = head.length === MAPPING_PREFIX_BYTES && head.every((byte, index) => byte === prefix[index]);
  if (!ours) {
    // A crash while the first write was in flight keeps any of its pieces; the rest reads as holes.
    if (startsAsOurs(head, prefix)) return { state: 'torn' };
    return { state: 'foreign', reason: describeForeignPrefix(bytes) };
  }
  if (bytes.length < MAPPING_HEADER_BYTES) return { state: 'torn' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, MAPPING_HEADER_BYTES);
  if (crc32c(bytes.subarray(0, MAPPING_HEADER_CHECKED_BYTES)) !== view.getUint32(MAPPING_HEADER_CHECKED_BYTES, true)) return { state: 'torn' };
  const outputBytes = getSafeUint64(view, 32);
  if (outputBytes === null) return { state: 'foreign', reason: `output size ${view.getBigUint64(32, true)} is past ${POSITION_MAX}` };
  const header: MappingHeader = {
    storeId,
    output: view.getUint32(24, true),
    outputOrder: view.getUint32(28, true),
    outputBytes,
    sourceCount: view.getUint32(40, true),
    entryCount: view.getUint32(44, true),
  };
  const reason = implausibleCounts(header);
  if (reason !== null) return { state: 'foreign', reason };
  // A checksummed header with a body of the wrong size: the body's write was cut short.
  if (fileBytes !== mappingFileBytes(header.sourceCount, header.entryCount)) return { state: 'torn' };
  return { state: 'valid', header, fileBytes };
}

function implausibleCounts(header: MappingHeader): string | null {
  if (header.sourceCount < 1 || header.sourceCount > MAPPING_SOURCES_MAX || header.sourceCount >= header.output) {
    return `${header.sourceCount} sources for output segment ${header.output}`;
  }
  const entriesMax = Math.floor(Math.max(0, header.outputBytes - SEGMENT_HEADER_BYTES) / MAPPING_ENTRY_MIN_OUTPUT_BYTES);
  if (header.entryCount > MAPPING_ENTRIES_MAX || header.entryCount > entriesMax) {
    return `${header.entryCount} entries, more than an output of ${header.outputBytes} bytes can hold`;
  }
  return null;
}

function describeForeignPrefix(bytes: Uint8Array): string {
  if (bytes.length < 8) return 'bad mapping magic';
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  if (view.getUint32(0, false) !== MAPPING_MAGIC) return 'bad mapping magic';
  const version = view.getUint16(4, true);
  if (version !== MAPPING_FORMAT_VERSION) return `mapping format version ${version}, this version reads ${MAPPING_FORMAT_VERSION} (commit or abort it with the version that wrote it)`;
  return 'written by another store (its store id is not this store\'s)';
}

/** Reads and verifies the whole mapping a valid header announced; null when its checksum fails. */
export function readMappingBody(io: Io, path: string, header: MappingHeader, fileBytes: number): MappingRecord | null {
  const file = io.open(path);
  try {
    return decodeMapping(readExactly(file, fileBytes), header);
  } finally {
    file.closeSync();
  }
}

function readExactly(file: IoFile, bytes: number): Uint8Array {
  const buffer = new Uint8Array(bytes);
  if (file.readSync(buffer, 0) !== bytes) throw new KeelError('KEEL_CORRUPT', `${file.path} shrank while it was read; nothing was changed`, { path: file.path, offset: 0 });
  return buffer;
}

function decodeMapping(bytes: Uint8Array, header: MappingHeader): MappingRecord | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crcAt = bytes.length - MAPPING_TRAILER_BYTES;
  if (crc32c(bytes.subarray(0, crcAt)) !== view.getUint32(crcAt, true)) return null;
  const sources: number[] = [];
  let position = MAPPING_HEADER_BYTES;
  for (let index = 0; index < header.sourceCount; index++, position += MAPPING_SOURCE_BYTES) sources.push(view.getUint32(position, true));
  const entries: MappingEntry[] = [];
  for (let index = 0; index < header.entryCount; index++, position += MAPPING_ENTRY_BYTES) {
    const fromOffset = getSafeUint64(view, position + 4);
    const toOffset = getSafeUint64(view, position + 16);
    // Offsets past 2^53 − 1 cannot be numbers: refused, never rounded.
    if (fromOffset === null || toOffset === null) return null;
    const length = view.getUint32(position + 12, true);
    if (length > PAYLOAD_BYTES_MAX) return null;
    const from = { segment: view.getUint32(position, true), offset: fromOffset, length };
    entries.push({ from, to: { segment: header.output, offset: toOffset, length } });
  }
  const { storeId, output, outputOrder, outputBytes } = header;
  return { storeId, output, outputOrder, outputBytes, sources, entries };
}
