import { FRAME_OVERHEAD_BYTES, FRAME_PAYLOAD_BYTES_MAX, KeelError, STORE_ID_BYTES, STORE_LOCK_FILE_NAME, defineFrameFormat, joinPath, sameStoreId } from '@keel/core';

/**
 * Bytes on disk. Every `.log` file starts with one header frame and then holds batch
 * frames, each carrying a run of consecutive records of one append; both use core's frame
 * layout (magic u32 BE, length u32 LE, payload, CRC-32C u32 LE) with their own magic, so
 * the header and the records are checked by the same code. README.md "Format" describes
 * every byte.
 */
export const FORMAT_VERSION = 3;

/** "KSLH": the segment header frame. */
export const HEADER_MAGIC = 0x4b53_4c48;
/** version u16 + flags u16 + base offset u64 + store id (16 bytes, the identity file's). */
export const HEADER_PAYLOAD_BYTES = 12 + STORE_ID_BYTES;
/**
 * Header flag: every segment before this one was whole and durable, under a durable
 * directory entry, when this header was written. A roll sets it when the sealed segment's
 * last batch was synced before the roll (the usual append-then-sync pattern), and the
 * header, once durable, then proves what the sealed-offset checkpoint would have, so the
 * flush that acknowledges the rolled batch writes no checkpoint. Added within format
 * version 3: the field was reserved, always zero, before.
 */
export const HEADER_FLAG_SEALED_DURABLE = 0x1;
/** Every flag this build writes and reads; a header with any other bit set is refused. */
export const HEADER_FLAGS_KNOWN = HEADER_FLAG_SEALED_DURABLE;
export const HEADER_BYTES = HEADER_PAYLOAD_BYTES + FRAME_OVERHEAD_BYTES;
export const HEADER_FORMAT = defineFrameFormat(HEADER_MAGIC, HEADER_PAYLOAD_BYTES);

/** "KSL2": a batch frame (format version 3; version 2's one-record frames were "KSL1"). */
export const BATCH_MAGIC = 0x4b53_4c32;
/** base offset u64 + record count u32 + base timestamp i64, then the records. */
export const BATCH_HEADER_BYTES = 20;
/** What a frame adds to its records: the frame's header and CRC, and the batch header. */
export const BATCH_OVERHEAD_BYTES = FRAME_OVERHEAD_BYTES + BATCH_HEADER_BYTES;
/**
 * A frame takes records while it stays within this many bytes (one larger record gets a
 * frame of its own). A page: a one-record read reads and checks at most about this much,
 * and a flipped bit costs at most this much of one append's records.
 */
export const BATCH_FRAME_BYTES_TARGET = 4096;
/** Largest record in a batch frame (its timestamp delta, key, value and headers, with their lengths): 64 MiB. */
export const RECORD_BYTES_MAX = 64 * 1024 * 1024;
/** A record of one byte each for timestamp delta, key length, value length and header count. */
export const RECORD_BYTES_MIN = 4;
export const BATCH_PAYLOAD_BYTES_MAX = BATCH_HEADER_BYTES + RECORD_BYTES_MAX;
export const BATCH_FORMAT = defineFrameFormat(BATCH_MAGIC, BATCH_PAYLOAD_BYTES_MAX);
export const BATCH_FRAME_BYTES_MIN = BATCH_OVERHEAD_BYTES + RECORD_BYTES_MIN;
export const BATCH_FRAME_BYTES_MAX = BATCH_PAYLOAD_BYTES_MAX + FRAME_OVERHEAD_BYTES;
export const HEADER_COUNT_MAX = 256;
export const HEADER_NAME_BYTES_MAX = 1024;

/** Offset index entry: relative offset u32 LE + position u32 LE. */
export const OFFSET_ENTRY_BYTES = 8;
/** Time index entry: timestamp i64 LE + relative offset u32 LE. */
export const TIME_ENTRY_BYTES = 12;
/**
 * A sealed segment's index files each hold one frame whose payload is all the entries,
 * so a flipped or cut index is caught by its CRC. "KSLX" and "KSLT".
 */
export const OFFSET_INDEX_MAGIC = 0x4b53_4c58;
export const TIME_INDEX_MAGIC = 0x4b53_4c54;
export const OFFSET_INDEX_FORMAT = defineFrameFormat(OFFSET_INDEX_MAGIC);
export const TIME_INDEX_FORMAT = defineFrameFormat(TIME_INDEX_MAGIC);
/** A sealed `.timeindex` payload starts with the segment's smallest timestamp, i64. */
export const MIN_TIMESTAMP_BYTES = 8;
/** A segment stops adding index entries at this many (a sparser index is still correct). */
export const INDEX_ENTRIES_MAX = Math.floor(FRAME_PAYLOAD_BYTES_MAX / TIME_ENTRY_BYTES);

export const SEGMENT_BYTES_DEFAULT = 1024 * 1024 * 1024;
export const SEGMENT_BYTES_MIN = HEADER_BYTES + BATCH_FRAME_BYTES_MIN;
/** Positions in the offset index are u32: a segment (plus one oversized record) must fit. */
export const SEGMENT_BYTES_MAX = 2 ** 31;
export const INDEX_INTERVAL_BYTES_DEFAULT = 4096;
export const INDEX_INTERVAL_BYTES_MIN = 1;
/** Segment files are named by their base offset with this many decimal digits. */
export const BASE_OFFSET_DIGITS = 20;
/** The directory lock, named as every keel store names it (core's STORE_LOCK_FILE_NAME). */
export const LOCK_FILE_NAME = STORE_LOCK_FILE_NAME;

/**
 * The log-start checkpoint (Kafka's log-start-offset checkpoint): one frame, magic "KSLS",
 * whose payload is version u16 + reserved u16 + log start offset u64 + store id. deleteBefore makes
 * it durable before it unlinks a segment, so segments below it are deleted whatever a
 * crash leaves of their files. Written as the temporary name, then renamed over.
 */
export const LOG_START_FILE_NAME = 'log-start-offset-checkpoint';
export const LOG_START_TEMPORARY_NAME = `${LOG_START_FILE_NAME}.tmp`;
export const LOG_START_MAGIC = 0x4b53_4c53;
export const LOG_START_VERSION = 2;
export const LOG_START_PAYLOAD_BYTES = HEADER_PAYLOAD_BYTES;
export const LOG_START_BYTES = LOG_START_PAYLOAD_BYTES + FRAME_OVERHEAD_BYTES;
export const LOG_START_FORMAT = defineFrameFormat(LOG_START_MAGIC, LOG_START_PAYLOAD_BYTES);

/**
 * The clean-shutdown record (Kafka's clean-shutdown file): one frame, magic "KSLC", of the
 * same payload shape as the checkpoint, naming the next offset at close. close writes it
 * after its final flush; open removes it (durably) before anything is appended, and while
 * it names exactly the log open found, trusts every sealed segment to be durable already.
 */
export const CLEAN_SHUTDOWN_FILE_NAME = 'clean-shutdown';
export const CLEAN_SHUTDOWN_TEMPORARY_NAME = `${CLEAN_SHUTDOWN_FILE_NAME}.tmp`;
export const CLEAN_SHUTDOWN_MAGIC = 0x4b53_4c43;
export const CLEAN_SHUTDOWN_VERSION = 1;
export const CLEAN_SHUTDOWN_FORMAT = defineFrameFormat(CLEAN_SHUTDOWN_MAGIC, HEADER_PAYLOAD_BYTES);

/**
 * The sealed-offset checkpoint: two slots of one frame each, magic "KSLD", of the same
 * payload shape as the log-start checkpoint, naming an offset N such that every segment
 * ending at or below N was whole and durable when the slot was written. A flush that
 * seals segments writes it only after their logs' datasyncs returned, and datasyncs it
 * before it acknowledges anything after them: so a sealed segment ending at or below N
 * whose log does not end cleanly is damaged, never a torn tail. Slots are written in
 * turn, in place (a torn write leaves the other one); open takes the larger valid one.
 */
export const SEALED_CHECKPOINT_FILE_NAME = 'sealed-offset-checkpoint';
export const SEALED_CHECKPOINT_MAGIC = 0x4b53_4c44;
export const SEALED_CHECKPOINT_VERSION = 1;
export const SEALED_CHECKPOINT_FORMAT = defineFrameFormat(SEALED_CHECKPOINT_MAGIC, HEADER_PAYLOAD_BYTES);
export const SEALED_CHECKPOINT_SLOTS = 2;

/**
 * The next segment's `.log`, created ahead of the roll that will need it (by a flush, off
 * the append path) and holding one frame, magic "KSLP", of the header's size and payload
 * shape: version u16 + reserved u16 + offset u64 (= 0) + store id. A roll writes the real
 * header over it and renames the file to its segment's name on the threadpool, so the
 * append that rolls creates no file. Open removes one no roll used and takes one a roll
 * used (it starts with a whole header of this log) for the segment its header names.
 */
export const PREPARED_SEGMENT_NAME = 'next-segment.prepared';
export const PREPARED_MAGIC = 0x4b53_4c50;
export const PREPARED_VERSION = 1;
export const PREPARED_FORMAT = defineFrameFormat(PREPARED_MAGIC, HEADER_PAYLOAD_BYTES);

// Relations the code relies on, checked once where the constants live.
if (BATCH_PAYLOAD_BYTES_MAX > FRAME_PAYLOAD_BYTES_MAX) throw new Error('batch payload bound exceeds the frame bound');
if (SEGMENT_BYTES_MAX + BATCH_FRAME_BYTES_MAX > 0xffff_ffff) throw new Error('segment positions must fit a u32');
if (SEGMENT_BYTES_MAX / RECORD_BYTES_MIN > 0xffff_ffff) throw new Error('relative offsets must fit a u32');

export interface SegmentPaths {
  log: string;
  offsetIndex: string;
  timeIndex: string;
}

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(BASE_OFFSET_DIGITS, '0');
}

export function segmentPaths(dir: string, baseOffset: number): SegmentPaths {
  const prefix = pathPrefix(dir);
  const name = segmentName(baseOffset);
  return { log: `${prefix}${name}.log`, offsetIndex: `${prefix}${name}.index`, timeIndex: `${prefix}${name}.timeindex` };
}

/** The last directory `pathPrefix` was asked for, and its answer. */
let prefixOf = { dir: '', prefix: '' };

/**
 * What `joinPath(dir, name)` puts before a plain file name: the same strings, without
 * normalizing the directory three times per segment. A roll computes a segment's paths
 * inside the append that rolls, where `joinPath` (rarely run, so never optimized) took
 * 20–30 µs of the call.
 */
function pathPrefix(dir: string): string {
  if (prefixOf.dir !== dir) {
    const probe = joinPath(dir, 'x');
    prefixOf = { dir, prefix: probe.slice(0, -1) };
  }
  return prefixOf.prefix;
}

const SEGMENT_FILE_PATTERN = /^(\d{20})\.(log|index|timeindex)$/;

/** Parses a directory entry; null for anything that is not a segment file. */
export function parseSegmentFileName(name: string): { baseOffset: number; kind: 'log' | 'index' | 'timeindex' } | null {
  const match = SEGMENT_FILE_PATTERN.exec(name);
  if (!match) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: match[2] as 'log' | 'index' | 'timeindex' };
}

const TWO_POW_32 = 2 ** 32;

/** Writes a non-negative safe integer as u64 little-endian. */
export function setUint64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_POW_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_POW_32), true);
}

/** Reads a u64 little-endian; null when it is not a safe integer. */
export function getUint64(view: DataView, at: number): number | null {
  const high = view.getUint32(at + 4, true);
  if (high >= 2 ** 21) return null;
  return high * TWO_POW_32 + view.getUint32(at, true);
}

/** Writes a safe integer as i64 little-endian. */
export function setInt64(view: DataView, at: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  view.setUint32(at, value - high * TWO_POW_32, true);
  view.setInt32(at + 4, high, true);
}

/** Reads an i64 little-endian; null when it is not a safe integer. */
export function getInt64(view: DataView, at: number): number | null {
  const value = view.getInt32(at + 4, true) * TWO_POW_32 + view.getUint32(at, true);
  return Number.isSafeInteger(value) ? value : null;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Where the store id sits in a header or checkpoint payload. */
export const STORE_ID_AT = 12;

/**
 * The payload the segment header and the log-start checkpoint share: version u16,
 * flags u16 (the segment header's; 0 in every other frame of this shape), offset u64,
 * store id.
 */
export function versionedOffsetPayload(version: number, offset: number, storeId: Uint8Array, flags = 0): Uint8Array {
  if (storeId.length !== STORE_ID_BYTES) throw new Error(`a store id is ${STORE_ID_BYTES} bytes`);
  const payload = new Uint8Array(HEADER_PAYLOAD_BYTES);
  const view = viewOf(payload);
  view.setUint16(0, version, true);
  view.setUint16(2, flags, true);
  setUint64(view, 4, offset);
  payload.set(storeId, STORE_ID_AT);
  return payload;
}

export function headerPayload(baseOffset: number, storeId: Uint8Array, flags = 0): Uint8Array {
  return versionedOffsetPayload(FORMAT_VERSION, baseOffset, storeId, flags);
}

/** The flags of a header payload `checkHeaderPayload` accepted. */
export function headerFlags(payload: Uint8Array): number {
  return viewOf(payload).getUint16(2, true);
}

/** Whether a payload of another size is a segment header of an older format (version 1: no store id). */
export function olderHeaderVersion(payload: Uint8Array): number | null {
  if (payload.length < 2) return null;
  const version = viewOf(payload).getUint16(0, true);
  return version < FORMAT_VERSION ? version : null;
}

/** What each older segment format lacked, for the message that refuses it. */
const OLDER_FORMATS: Record<number, string> = {
  1: 'before logs had a store identity',
  2: 'with one frame per record, before records were framed in batches',
};

/** KEEL_CORRUPT for a segment written by a format this build no longer reads. */
export function olderFormatError(path: string, version: number): KeelError {
  const when = OLDER_FORMATS[version] ?? 'in an older format';
  return new KeelError(
    'KEEL_CORRUPT',
    `${path} has segment format version ${version}, written by an older @keel/segment-log ${when}; this build reads version ${FORMAT_VERSION}: read the records with the version that wrote them and append them to a new log. Nothing was changed`,
    { path, offset: 0 },
  );
}

/** Checks a decoded header payload against the segment's name and the store's id. */
export function checkHeaderPayload(payload: Uint8Array, baseOffset: number, path: string, storeId: Uint8Array): void {
  const view = viewOf(payload);
  const version = view.getUint16(0, true);
  if (version < FORMAT_VERSION) throw olderFormatError(path, version);
  if (version !== FORMAT_VERSION) {
    throw new KeelError('KEEL_CORRUPT', `${path} has segment format version ${version}; this build reads version ${FORMAT_VERSION}`, { path, offset: 0 });
  }
  const flags = view.getUint16(2, true);
  if ((flags & ~HEADER_FLAGS_KNOWN) !== 0) {
    throw new KeelError('KEEL_CORRUPT', `${path} header has flags 0x${flags.toString(16)}, which this build does not know (a newer @keel/segment-log wrote it, or the file is damaged); nothing was changed`, { path, offset: 0 });
  }
  if (getUint64(view, 4) !== baseOffset) {
    throw new KeelError('KEEL_CORRUPT', `${path} header names base offset ${String(getUint64(view, 4))}, not the ${baseOffset} its name says`, { path, offset: 0 });
  }
  if (!sameStoreId(payload.subarray(STORE_ID_AT, STORE_ID_AT + STORE_ID_BYTES), storeId)) {
    throw new KeelError('KEEL_CORRUPT', `${path} belongs to another log (its header names another store id); it is foreign and was left untouched`, { path, offset: 0 });
  }
}
