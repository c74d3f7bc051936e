import { FRAME_PAYLOAD_BYTES_MAX } from '@keel/core';

/**
 * Every bound of the store in one place. Each length read from disk is compared with one
 * of these before it sizes an allocation or a slice.
 */

/** Longest key in bytes (its length is a u16 on disk). */
export const KEY_BYTES_MAX = 0xffff;
/** Largest value in bytes. */
export const VALUE_BYTES_MAX = 64 * 1024 * 1024;
/** Largest log record (one put, delete or batch), bounded by the frame format. */
export const RECORD_PAYLOAD_BYTES_MAX = FRAME_PAYLOAD_BYTES_MAX;
/** Most operations one batch may hold. */
export const BATCH_OPERATIONS_MAX = 1_000_000;
/**
 * Entries the in-memory index can hold at all: V8's `Map` refuses to grow past 2^24.
 * A write that would take it there is refused before it is encoded (see KEYS_MAX).
 */
export const INDEX_ENTRIES_MAX = 2 ** 24;
/**
 * Most live keys a store holds; `keysMax` may set a lower limit. A write whose batch would
 * take the key count above it is refused with KEEL_TOO_LARGE before anything is written,
 * and open refuses (changing nothing) a log or snapshot that holds more. Applying one
 * batch in order can hold at most BATCH_OPERATIONS_MAX keys more than the count before
 * or after it, hence the margin below INDEX_ENTRIES_MAX.
 */
export const KEYS_MAX = INDEX_ENTRIES_MAX - BATCH_OPERATIONS_MAX;

/** Unflushed log bytes kept in memory before they are handed to the OS. */
export const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Sealed log bytes are mapped for reads in segments of this size (a value crossing a boundary is read with pread). */
export const MAP_SEGMENT_BYTES = 8 * 1024 * 1024;
/** Automatic snapshot once the log grew this much since the last one. */
export const SNAPSHOT_EVERY_BYTES_DEFAULT = 10 * 1024 * 1024;
/** Automatic compaction once dead bytes / log bytes exceeds this. */
export const COMPACT_WHEN_GARBAGE_RATIO_DEFAULT = 0.5;
/** No automatic compaction below this log size: rewriting a small log gains nothing. */
export const COMPACT_LOG_BYTES_MIN = 1024 * 1024;
/** Target size of one record frame written by compaction. */
export const COMPACTION_RECORD_BYTES = 1024 * 1024;
/** How many snapshots are kept on disk (the newest ones). */
export const SNAPSHOTS_KEPT = 2;
/** Largest frame of a snapshot file: one chunk of index entries. */
export const SNAPSHOT_FRAME_BYTES_MAX = 8 * 1024 * 1024;
/** Target size of one chunk of index entries in a snapshot. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

// Relations the code relies on.
if (KEYS_MAX + BATCH_OPERATIONS_MAX > INDEX_ENTRIES_MAX) throw new Error('applying a batch at the key limit must fit in the index');
if (VALUE_BYTES_MAX + KEY_BYTES_MAX + 64 > RECORD_PAYLOAD_BYTES_MAX) throw new Error('a single put must fit in one record');
if (KEY_BYTES_MAX + 64 > SNAPSHOT_CHUNK_BYTES || SNAPSHOT_CHUNK_BYTES * 2 > SNAPSHOT_FRAME_BYTES_MAX) {
  throw new Error('a snapshot chunk must hold at least one entry and fit in a snapshot frame');
}
