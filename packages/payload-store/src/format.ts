import { FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, KeelError, STORE_LOCK_FILE_NAME, crc32c, defineFrameFormat, type FrameFormat } from '@keel/core';

/**
 * Bytes on disk (see the Format section of the README). A store directory holds:
 *
 *   LOCK                          the exclusive directory lock (empty)
 *   NNNNNNNNNN.seg                a segment: header, then payload frames
 *   NNNNNNNNNN.seg.compacting     a compaction output still being written (removed on open)
 *   NNNNNNNNNN.mapping            the durable ref map of a compaction not yet committed
 *   NNNNNNNNNN.seg.torn-OFFSET    bytes a recovery cut off a torn segment (never read)
 */

/** "KPSG": the first four bytes of every segment file, big-endian. */
export const SEGMENT_MAGIC = 0x4b50_5347;
export const SEGMENT_FORMAT_VERSION = 1;
/**
 * magic u32 BE, version u16 LE, kind u16 LE, segment number u32 LE, order u32 LE,
 * CRC-32C u32 LE of the first 16 bytes.
 */
export const SEGMENT_HEADER_BYTES = 20;
const SEGMENT_HEADER_CHECKED_BYTES = 16;

/** "KPL\x01": the magic of every payload frame (core's frame layout). */
export const PAYLOAD_FRAME_MAGIC = 0x4b50_4c01;
export const PAYLOAD_BYTES_MAX = FRAME_PAYLOAD_BYTES_MAX;
export const PAYLOAD_FRAME_FORMAT: FrameFormat = defineFrameFormat(PAYLOAD_FRAME_MAGIC, PAYLOAD_BYTES_MAX);

/** Segment numbers are u32 on disk and in encoded refs; 0 is never used. */
export const SEGMENT_NUMBER_MIN = 1;
export const SEGMENT_NUMBER_MAX = 0xffff_ffff;
const SEGMENT_NAME_DIGITS = 10;

export const SEGMENT_BYTES_DEFAULT = 256 * 1024 * 1024;
/** Small enough for tests to rotate often; a segment always holds at least one frame. */
export const SEGMENT_BYTES_MIN = SEGMENT_HEADER_BYTES + FRAME_OVERHEAD_BYTES;
/** A segment this size still maps into one Buffer (Node's Buffer limit is 4 GiB). */
export const SEGMENT_BYTES_MAX = 2 ** 31;
/**
 * Sealed segments up to this size are read through one mapping. Only a compaction
 * output can be larger (it holds every live payload of its sources); it is read with
 * positional reads instead.
 */
export const MAPPED_SEGMENT_BYTES_MAX = 2 ** 31;

/** The directory lock, named as every keel store names it (core's STORE_LOCK_FILE_NAME). */
export const LOCK_FILE_NAME = STORE_LOCK_FILE_NAME;

/** Appended segments take new payloads; compaction segments are written whole by compaction. */
export type SegmentKind = 'append' | 'compaction';
const KIND_CODES: Record<SegmentKind, number> = { append: 1, compaction: 2 };

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(SEGMENT_NAME_DIGITS, '0')}.seg`;
}

export function compactingFileName(segment: number): string {
  return `${segmentFileName(segment)}.compacting`;
}

export function mappingFileName(segment: number): string {
  return `${String(segment).padStart(SEGMENT_NAME_DIGITS, '0')}.mapping`;
}

export type StoreFileKind = 'segment' | 'compacting' | 'mapping';

const FILE_NAME_PATTERN = /^(\d{10})\.(seg|seg\.compacting|mapping)$/;

/** Recognises the files this store owns; anything else in the directory is left alone. */
export function parseStoreFileName(name: string): { kind: StoreFileKind; segment: number } | null {
  const match = FILE_NAME_PATTERN.exec(name);
  if (match === null) return null;
  const segment = Number(match[1]);
  if (segment < SEGMENT_NUMBER_MIN || segment > SEGMENT_NUMBER_MAX) return null;
  const suffix = match[2];
  const kind: StoreFileKind = suffix === 'seg' ? 'segment' : suffix === 'mapping' ? 'mapping' : 'compacting';
  return { kind, segment };
}

/**
 * What a segment's header says about it. `order` places its payloads in append order: an
 * append segment's order is its own number; a compaction output's is the lowest order
 * of its sources (it holds their payloads, which were appended before anything newer).
 */
export interface SegmentIdentity {
  readonly segment: number;
  readonly kind: SegmentKind;
  readonly order: number;
}

export function encodeSegmentHeader(identity: SegmentIdentity): Uint8Array {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SEGMENT_MAGIC, false);
  view.setUint16(4, SEGMENT_FORMAT_VERSION, true);
  view.setUint16(6, KIND_CODES[identity.kind], true);
  view.setUint32(8, identity.segment, true);
  view.setUint32(12, identity.order, true);
  view.setUint32(16, crc32c(header.subarray(0, SEGMENT_HEADER_CHECKED_BYTES)), true);
  return header;
}

export type HeaderCheck =
  | { readonly state: 'valid'; readonly kind: SegmentKind; readonly order: number }
  /** Never fully written: a prefix of an append header followed by zeros (a crash during creation). */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

/**
 * Judges the first bytes of a segment file (fewer than SEGMENT_HEADER_BYTES when the
 * file is that short). A torn header can only come from a crash between creating a
 * segment and its first sync, which comes before any payload is written: so only a file
 * no longer than a header can hold one, and nothing in it was ever acknowledged. A bad
 * header in a longer file is damage (or not ours), never repaired.
 */
export function checkSegmentHeader(bytes: Uint8Array, segment: number, fileBytes: number): HeaderCheck {
  if (bytes.length >= SEGMENT_HEADER_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
    const checksum = crc32c(bytes.subarray(0, SEGMENT_HEADER_CHECKED_BYTES));
    const complete = view.getUint32(0, false) === SEGMENT_MAGIC && checksum === view.getUint32(SEGMENT_HEADER_CHECKED_BYTES, true);
    if (complete) return judgeCompleteHeader(view, segment);
  }
  const appendHeader = encodeSegmentHeader({ segment, kind: 'append', order: segment });
  if (fileBytes <= SEGMENT_HEADER_BYTES && isTornPrefix(bytes.subarray(0, SEGMENT_HEADER_BYTES), appendHeader)) return { state: 'torn' };
  return { state: 'foreign', reason: 'bad segment magic or header checksum' };
}

function judgeCompleteHeader(view: DataView, segment: number): HeaderCheck {
  const version = view.getUint16(4, true);
  if (version !== SEGMENT_FORMAT_VERSION) return { state: 'foreign', reason: `unsupported segment format version ${version}` };
  const kindCode = view.getUint16(6, true);
  const kind = (Object.keys(KIND_CODES) as SegmentKind[]).find((name) => KIND_CODES[name] === kindCode);
  if (kind === undefined) return { state: 'foreign', reason: `unknown segment kind ${kindCode}` };
  const recorded = view.getUint32(8, true);
  if (recorded !== segment) return { state: 'foreign', reason: `header names segment ${recorded}, file name says ${segment}` };
  const order = view.getUint32(12, true);
  if (order < SEGMENT_NUMBER_MIN || order > segment) return { state: 'foreign', reason: `order ${order} is outside [${SEGMENT_NUMBER_MIN}, ${segment}]` };
  return { state: 'valid', kind, order };
}

/** True when `bytes` is some prefix of `expected` followed only by zeros. */
function isTornPrefix(bytes: Uint8Array, expected: Uint8Array): boolean {
  let index = 0;
  while (index < bytes.length && bytes[index] === expected[index]) index++;
  for (; index < bytes.length; index++) if (bytes[index] !== 0) return false;
  return true;
}

export function foreignSegmentError(path: string, reason: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path} is not a keel payload segment (${reason}); it was left untouched`, { path, offset: 0 });
}
