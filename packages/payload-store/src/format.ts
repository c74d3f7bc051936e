import { FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, KeelError, STORE_ID_BYTES, STORE_LOCK_FILE_NAME, crc32c, defineFrameFormat, getSafeUint64, sameStoreId, startsAsOurs, type FrameFormat } from '@keel/core';

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
/** Version 2 binds a segment to its store, its frames to their place, a sealed segment to its end. */
export const SEGMENT_FORMAT_VERSION = 2;
/**
 * magic u32 BE, version u16 LE, kind u16 LE, segment number u32 LE, order u32 LE,
 * store id (16 bytes), predecessor u32 LE, bound end u64 LE, CRC-32C u32 LE of the first 44 bytes.
 */
export const SEGMENT_HEADER_BYTES = 48;
const SEGMENT_HEADER_CHECKED_BYTES = 44;
/** magic, version, kind, number, order and store id: what a torn append header is compared with. */
const SEGMENT_HEADER_PREFIX_BYTES = 16 + STORE_ID_BYTES;
const STORE_ID_AT = 16;
const PREDECESSOR_AT = 32;
const BOUND_END_AT = 36;

/** "KPL\x01": the magic of every payload frame (core's frame layout). */
export const PAYLOAD_FRAME_MAGIC = 0x4b50_4c01;
/**
 * Every frame's payload starts with where the frame belongs: its segment number (u32 LE)
 * and its offset in that segment (u64 LE). The frame's CRC-32C covers them, so a whole
 * frame found anywhere else (a misdirected write, a stale block) fails its check.
 */
export const FRAME_BINDING_BYTES = 12;
/** The largest payload a caller may store: core's frame bound less the binding. */
export const PAYLOAD_BYTES_MAX = FRAME_PAYLOAD_BYTES_MAX - FRAME_BINDING_BYTES;
export const PAYLOAD_FRAME_FORMAT: FrameFormat = defineFrameFormat(PAYLOAD_FRAME_MAGIC, FRAME_PAYLOAD_BYTES_MAX);
/** Bytes on disk of the frame of a payload of `length` bytes. */
export function payloadFrameBytes(length: number): number {
  return length + FRAME_BINDING_BYTES + FRAME_OVERHEAD_BYTES;
}

/** Segment numbers are u32 on disk and in encoded refs; 0 is never used. */
export const SEGMENT_NUMBER_MIN = 1;
export const SEGMENT_NUMBER_MAX = 0xffff_ffff;
const SEGMENT_NAME_DIGITS = 10;

export const SEGMENT_BYTES_DEFAULT = 256 * 1024 * 1024;
/** Small enough for tests to rotate often; a segment always holds at least one frame. */
export const SEGMENT_BYTES_MIN = SEGMENT_HEADER_BYTES + FRAME_OVERHEAD_BYTES + FRAME_BINDING_BYTES;
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
 * `predecessor` and `boundEnd` bind where a sealed segment ends: an append segment names
 * the append segment a rotation sealed to create it (0: none) and the byte it was sealed
 * at; a compaction output, written whole, records its own size (predecessor 0).
 */
export interface SegmentIdentity {
  readonly segment: number;
  readonly kind: SegmentKind;
  readonly order: number;
  readonly storeId: Uint8Array;
  readonly predecessor: number;
  readonly boundEnd: number;
}

export function encodeSegmentHeader(identity: SegmentIdentity): Uint8Array {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SEGMENT_MAGIC, false);
  view.setUint16(4, SEGMENT_FORMAT_VERSION, true);
  view.setUint16(6, KIND_CODES[identity.kind], true);
  view.setUint32(8, identity.segment, true);
  view.setUint32(12, identity.order, true);
  header.set(identity.storeId, STORE_ID_AT);
  view.setUint32(PREDECESSOR_AT, identity.predecessor, true);
  view.setBigUint64(BOUND_END_AT, BigInt(identity.boundEnd), true);
  view.setUint32(SEGMENT_HEADER_CHECKED_BYTES, crc32c(header.subarray(0, SEGMENT_HEADER_CHECKED_BYTES)), true);
  return header;
}

export type HeaderCheck =
  | { readonly state: 'valid'; readonly kind: SegmentKind; readonly order: number; readonly predecessor: number; readonly boundEnd: number }
  /** Never fully written: each byte an append header's or a hole, nothing after (a crash before the segment's first sync). */
  | { readonly state: 'torn' }
  | { readonly state: 'foreign'; readonly reason: string; readonly olderFormat?: boolean };

/**
 * Judges the first bytes of a segment file (fewer than SEGMENT_HEADER_BYTES when the
 * file is that short) against the store's id. A torn header can only come from a crash
 * before the segment's first sync, which covers the header with the payloads after it:
 * so only a file no longer than a header can hold one (its magic, version, kind, number,
 * order and store id each ours or a hole; the predecessor fields are not known before
 * reading), and nothing in it was ever acknowledged. A bad header in a longer file is
 * damage (or not ours), never repaired.
 */
export function checkSegmentHeader(bytes: Uint8Array, segment: number, fileBytes: number, storeId: Uint8Array): HeaderCheck {
  if (bytes.length >= SEGMENT_HEADER_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
    const checksum = crc32c(bytes.subarray(0, SEGMENT_HEADER_CHECKED_BYTES));
    const complete = view.getUint32(0, false) === SEGMENT_MAGIC && checksum === view.getUint32(SEGMENT_HEADER_CHECKED_BYTES, true);
    if (complete) return judgeCompleteHeader(view, segment, fileBytes, storeId);
  }
  if (isVersionOneHeader(bytes)) return olderVersion(1);
  const appendHeader = encodeSegmentHeader({ segment, kind: 'append', order: segment, storeId, predecessor: 0, boundEnd: 0 }).subarray(0, SEGMENT_HEADER_PREFIX_BYTES);
  if (fileBytes <= SEGMENT_HEADER_BYTES && startsAsOurs(bytes.subarray(0, SEGMENT_HEADER_PREFIX_BYTES), appendHeader)) return { state: 'torn' };
  return { state: 'foreign', reason: 'bad segment magic or header checksum' };
}

/** Format 1's header: 20 bytes, magic, version 1, kind, number, order, CRC-32C of the first 16 (never a torn one of ours: its version byte is 1). */
const VERSION_ONE_HEADER_BYTES = 20;

function isVersionOneHeader(bytes: Uint8Array): boolean {
  if (bytes.length < VERSION_ONE_HEADER_BYTES) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, VERSION_ONE_HEADER_BYTES);
  return view.getUint32(0, false) === SEGMENT_MAGIC && view.getUint16(4, true) === 1 && view.getUint32(16, true) === crc32c(bytes.subarray(0, 16));
}

function olderVersion(version: number): HeaderCheck {
  return {
    state: 'foreign',
    olderFormat: true,
    reason: `segment format version ${version}, written by an older @keel/payload-store, which bound neither frames to their place nor segments to their store; this version reads format ${SEGMENT_FORMAT_VERSION} only: read the payloads with the version that wrote them and append them to a new store`,
  };
}

function judgeCompleteHeader(view: DataView, segment: number, fileBytes: number, storeId: Uint8Array): HeaderCheck {
  const version = view.getUint16(4, true);
  if (version !== SEGMENT_FORMAT_VERSION) return { state: 'foreign', reason: `unsupported segment format version ${version}` };
  const kindCode = view.getUint16(6, true);
  const kind = (Object.keys(KIND_CODES) as SegmentKind[]).find((name) => KIND_CODES[name] === kindCode);
  if (kind === undefined) return { state: 'foreign', reason: `unknown segment kind ${kindCode}` };
  const recorded = view.getUint32(8, true);
  if (recorded !== segment) return { state: 'foreign', reason: `header names segment ${recorded}, file name says ${segment}` };
  const order = view.getUint32(12, true);
  if (order < SEGMENT_NUMBER_MIN || order > segment) return { state: 'foreign', reason: `order ${order} is outside [${SEGMENT_NUMBER_MIN}, ${segment}]` };
  const headerStoreId = new Uint8Array(view.buffer, view.byteOffset + STORE_ID_AT, STORE_ID_BYTES);
  if (!sameStoreId(headerStoreId, storeId)) return { state: 'foreign', reason: 'it belongs to another store (its store id is not this store\'s)' };
  const predecessor = view.getUint32(PREDECESSOR_AT, true);
  const boundEnd = getSafeUint64(view, BOUND_END_AT);
  if (boundEnd === null) return { state: 'foreign', reason: 'its bound end is past 2^53 − 1' };
  return judgeLink(kind, order, segment, predecessor, boundEnd, fileBytes);
}

/** The predecessor fields must be ones this store writes for the segment's kind. */
function judgeLink(kind: SegmentKind, order: number, segment: number, predecessor: number, boundEnd: number, fileBytes: number): HeaderCheck {
  if (kind === 'compaction') {
    if (predecessor !== 0) return { state: 'foreign', reason: `a compaction output names predecessor ${predecessor}` };
    if (boundEnd !== fileBytes) return { state: 'foreign', reason: `a compaction output written ${boundEnd} bytes long holds ${fileBytes}: part of it was lost or it grew` };
  } else if (order !== segment) {
    return { state: 'foreign', reason: `an append segment's order ${order} is not its number` };
  } else if (predecessor >= segment || (predecessor === 0) !== (boundEnd === 0) || (predecessor !== 0 && boundEnd < SEGMENT_HEADER_BYTES)) {
    return { state: 'foreign', reason: `predecessor ${predecessor} sealed at ${boundEnd} is not one a rotation of segment ${segment} writes` };
  }
  return { state: 'valid', kind, order, predecessor, boundEnd };
}

export function foreignSegmentError(path: string, reason: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path} is not a keel payload segment (${reason}); it was left untouched`, { path, offset: 0 });
}
