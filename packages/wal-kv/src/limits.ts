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
 * Entries the in-memory index (`@keel/native`'s KeyTable) can address: slot numbers are
 * u32, and its buckets (at most 2^32) are never more than 3/4 full.
 */
export const INDEX_SLOTS_MAX = 2 ** 32 - 2;
export const INDEX_BUCKETS_USABLE = 0.75 * 2 ** 32;
/**
 * Most live keys a store holds; `keysMax` may set a lower limit. A write whose batch would
 * take the key count above it is refused with KEEL_TOO_LARGE before anything is written,
 * and open refuses (changing nothing) a log or snapshot that holds more. Memory, at about
 * 70 bytes per 16-byte key, binds long before this does (see the README's Limits).
 */
export const KEYS_MAX = 2 ** 31;
/** Slots the ordered view may keep dead until it catches up, as a share of the live keys (see the index). */
const DEAD_SLOTS_SHARE_MAX = 0.25;

/** Unflushed log bytes kept in memory before they are handed to the OS. */
export const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Flushed log bytes are mapped for reads in segments of this size (a value crossing a boundary is read with pread). */
export const MAP_SEGMENT_BYTES = 8 * 1024 * 1024;
/** The last, partly written segment is mapped again once it grew by this much (reads of newer bytes use pread meanwhile). */
export const MAP_REMAP_GROWTH_BYTES = 1024 * 1024;
/** A get verifies and copies a value up to this size into one reused buffer (a larger one is read into a buffer of its own). */
export const READ_BUFFER_BYTES = 64 * 1024;
/** A range walk reads the values of each index batch in one call, up to this many bytes of them (the rest one by one). */
export const VALUE_RUN_BYTES_MAX = 256 * 1024;
/** Automatic snapshot once the log grew this much since the last one. */
export const CHECKPOINT_EVERY_BYTES_DEFAULT = 10 * 1024 * 1024;
/**
 * ...or this many times the last checkpoint's size, if that is more. Encoding a checkpoint
 * costs about 0.1 µs of main-thread CPU per key (the index encodes its entries natively;
 * it was 0.6 µs when each entry crossed into JavaScript) and writing it about 35 bytes per
 * 16-byte key; replaying costs about 0.16 µs per 135-byte record. At 8, the checkpoints of
 * a store growing by puts cost well under 0.1 µs of CPU per put, and a crash replays at
 * most 8 checkpoints' worth of log (about 300 MB, 0.35 s, at 1M 16-byte keys). A clean
 * close writes one, so an open after it replays almost nothing.
 */
export const CHECKPOINT_LOG_GROWTH_RATIO = 8;
/** Automatic compaction once dead bytes / log bytes exceeds this. */
export const COMPACT_WHEN_GARBAGE_RATIO_DEFAULT = 0.5;
/** No automatic compaction below this log size: rewriting a small log gains nothing. */
export const COMPACT_LOG_BYTES_MIN = 1024 * 1024;
/** Target size of one record frame written by compaction. */
export const COMPACTION_RECORD_BYTES = 1024 * 1024;
/**
 * Puts of a record compaction looks up in one native call (its slice may end between two
 * calls): about a tenth of a millisecond of lookups in a table of millions of keys
 * (each call checks the whole record again, so a larger record takes larger calls).
 */
export const COMPACTION_PUTS_PER_CALL = 2048;
/** A record is taken in at most this many calls of more puts each (see `putsPerCallFor`). */
export const COMPACTION_CALLS_PER_RECORD_MAX = 32;
/** Small frames compaction writes are gathered into writes of up to this. */
export const COMPACTION_STAGE_BYTES = 1024 * 1024;
/** Compaction's writes on the threadpool at a time (each up to a frame or a stage)... */
export const COMPACTION_WRITES_IN_FLIGHT_MAX = 2;
/** ...and the bytes it writes between datasyncs of the new log (see `WriteBehind`). */
export const COMPACTION_SYNC_EVERY_BYTES = 8 * 1024 * 1024;
/**
 * Compaction switches logs once what was written since its copy began is below this
 * (copied in the switch's one turn: a few hundred one-put frames, about a millisecond)...
 */
export const COMPACTION_SWITCH_BYTES = 64 * 1024;
/** ...or after this many catch-up passes, when writes outpace them. */
export const COMPACTION_CATCH_UP_PASSES = 8;
/** How many snapshots are kept on disk (the newest ones). */
export const SNAPSHOTS_KEPT = 2;
/** Largest frame of a snapshot file: one chunk of index entries. */
export const SNAPSHOT_FRAME_BYTES_MAX = 8 * 1024 * 1024;
/** Target size of one chunk of index entries in a snapshot. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

// Relations the code relies on.
if (KEYS_MAX * (1 + DEAD_SLOTS_SHARE_MAX) + BATCH_OPERATIONS_MAX > INDEX_SLOTS_MAX || KEYS_MAX + BATCH_OPERATIONS_MAX > INDEX_BUCKETS_USABLE) {
  throw new Error('a store at its key limit, with one batch and the dead slots of the ordered view, must fit in the index');
}
if (VALUE_BYTES_MAX + KEY_BYTES_MAX + 64 > RECORD_PAYLOAD_BYTES_MAX) throw new Error('a single put must fit in one record');
if (KEY_BYTES_MAX + 64 > SNAPSHOT_CHUNK_BYTES || SNAPSHOT_CHUNK_BYTES * 2 > SNAPSHOT_FRAME_BYTES_MAX) {
  throw new Error('a snapshot chunk must hold at least one entry and fit in a snapshot frame');
}
