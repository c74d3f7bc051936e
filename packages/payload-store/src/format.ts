import { FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, KeelError, STORE_LOCK_FILE_NAME, crc32c, defineFrameFormat, startsAsOurs, type FrameFormat } from '@keel/core';

/**
 * Bytes on disk (see the Format section of the README). A store directory holds:
 *
 *   LOCK                          the exclusive directory lock (empty)
 *   NNNNNNNNNN.seg                a segment: header, then payload frames
 *   NNNNNNNNNN.seg.follows-P-E    an append segment a rotation created, until its predecessor P
 *                                 (sealed at byte E) is durable; then renamed to NNNNNNNNNN.seg
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

/**
 * The name of an append segment a rotation created, until the flush that makes the segment
 * it follows (the one the rotation sealed) durable gives it its segment name. It records
 * that predecessor and the byte where it was sealed, so open can tell whether the
 * predecessor survived whole: `0000000005.seg.follows-0000000004-268435456`.
 */
export function followingFileName(segment: number, predecessor: number, sealedEnd: number): string {
  return `${segmentFileName(segment)}.follows-${String(predecessor).padStart(SEGMENT_NAME_DIGITS, '0')}-${sealedEnd}`;
}

export type StoreFile =
  | { readonly kind: 'segment' | 'compacting' | 'mapping'; readonly segment: number }
  | { readonly kind: 'following'; readonly segment: number; readonly predecessor: number; readonly sealedEnd: number };

const FILE_NAME_PATTERN = /^(\d{10})\.(seg|seg\.compacting|mapping)$/;
/** Sixteen digits hold every safe integer: a sealed end is checked against that bound below. */
const FOLLOWING_NAME_PATTERN = /^(\d{10})\.seg\.follows-(\d{10})-(\d{1,16})$/;

/** Recognises the files this store owns; anything else in the directory is left alone. */
export function parseStoreFileName(name: string): StoreFile | null {
  const following = FOLLOWING_NAME_PATTERN.exec(name);
  if (following !== null) return parseFollowing(Number(following[1]), Number(following[2]), Number(following[3]));
  const match = FILE_NAME_PATTERN.exec(name);
  if (match === null) return null;
  const segment = Number(match[1]);
  if (!isSegmentNumber(segment)) return null;
  const suffix = match[2];
  return { kind: suffix === 'seg' ? 'segment' : suffix === 'mapping' ? 'mapping' : 'compacting', segment };
}

/** A following name whose numbers a rotation of this store could not have written is not ours. */
function parseFollowing(segment: number, predecessor: number, sealedEnd: number): StoreFile | null {
  if (!isSegmentNumber(segment) || !isSegmentNumber(predecessor) || predecessor >= segment) return null;
  if (!Number.isSafeInteger(sealedEnd) || sealedEnd < SEGMENT_HEADER_BYTES) return null;
  return { kind: 'following', segment, predecessor, sealedEnd };
}

function isSegmentNumber(segment: number): boolean {
  return segment >= SEGMENT_NUMBER_MIN && segment <= SEGMENT_NUMBER_MAX;
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
  /** Never fully written: each byte an append header's or a hole, nothing after (a crash before the segment's first sync). */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string };

/**
 * Judges the first bytes of a segment file (fewer than SEGMENT_HEADER_BYTES when the
 * file is that short). A torn header can only come from a crash before the segment's
 * first sync, which covers the header with the payloads after it: so only a file no
 * longer than a header (each byte the header's or a hole) can hold one, and nothing in
 * it was ever acknowledged. A bad header in a longer file is damage (or not ours), never
 * repaired.
 */
export function checkSegmentHeader(bytes: Uint8Array, segment: number, fileBytes: number): HeaderCheck {
  if (bytes.length >= SEGMENT_HEADER_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
    const checksum = crc32c(bytes.subarray(0, SEGMENT_HEADER_CHECKED_BYTES));
    const complete = view.getUint32(0, false) === SEGMENT_MAGIC && checksum === view.getUint32(SEGMENT_HEADER_CHECKED_BYTES, true);
    if (complete) return judgeCompleteHeader(view, segment);
  }
  const appendHeader = encodeSegmentHeader({ segment, kind: 'append', order: segment });
  if (fileBytes <= SEGMENT_HEADER_BYTES && startsAsOurs(bytes.subarray(0, SEGMENT_HEADER_BYTES), appendHeader)) return { state: 'torn' };
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

export function foreignSegmentError(path: string, reason: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path} is not a keel payload segment (${reason}); it was left untouched`, { path, offset: 0 });
}
