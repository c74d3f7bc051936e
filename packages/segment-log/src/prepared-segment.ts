import { KeelError, STORE_ID_BYTES, checkFrameAt, encodeFrame, findNextValidFrame, isKeelError, joinPath, sameStoreId, type Io, type IoFile } from '@keel/core';
import {
  FORMAT_VERSION,
  HEADER_BYTES,
  HEADER_FLAGS_KNOWN,
  HEADER_FORMAT,
  PREPARED_FORMAT,
  PREPARED_SEGMENT_NAME,
  PREPARED_VERSION,
  BATCH_FORMAT,
  STORE_ID_AT,
  getUint64,
  versionedOffsetPayload,
  viewOf,
} from './format.js';

/**
 * The next segment's `.log`, made ahead of the roll that needs it, its directory entry
 * durable: created, its frame written and the directory synced, in background work after
 * a flush (see roll-settle.ts). The append that rolls writes the header over the frame and
 * keeps the handle; since the file's directory entry is durable already, the flush that
 * acknowledges the rolled batch syncs that file's data and no directory, and the rename to
 * the segment's own name comes later, off every sync's path. So a batch never waits on a
 * roll: no file is created on it and no directory synced.
 */
export class PreparedSegment {
  readonly path: string;
  readonly #dir: string;
  readonly #storeId: Uint8Array;
  /** A file whose frame and directory entry are durable: ready for a roll. */
  #file: IoFile | null = null;
  /**
   * The name is taken: by a file being prepared or not used yet, by a segment whose rename
   * to its own name is not durable yet, or by a file this log did not make (then for good).
   */
  #taken = false;
  /** A roll took the file, and the segment in it has not taken its own name yet. */
  #inUse = false;

  constructor(dir: string, storeId: Uint8Array) {
    this.#dir = dir;
    this.path = joinPath(dir, PREPARED_SEGMENT_NAME);
    this.#storeId = storeId;
  }

  /** Whether `prepare` has anything to do: the name is free. */
  get wanted(): boolean {
    return !this.#taken;
  }

  /** Whether a segment holds the name: a roll took the file and `released` has not come yet. */
  get inUse(): boolean {
    return this.#inUse;
  }

  /**
   * Creates the file when its name is free and makes its directory entry durable: only
   * then can a roll take it, and the flush after that roll claim records in it durable
   * without a directory sync. The frame itself is not synced: what a crash leaves of it
   * (all, a part, zeros, nothing) is what open accepts of an unused file, and the flush
   * that acknowledges records in the file datasyncs it, header and records, first. A
   * crash before the end leaves an unused file (or none), which open removes. A file there that this log did not make is left alone, and no file is
   * prepared again. The caller has made any rename away from this name durable first: a
   * crash could otherwise keep the creation of the new file and lose the older rename.
   * A failure leaves the name taken (the guarded Io has poisoned the log).
   */
  async prepare(io: Io): Promise<void> {
    if (this.#taken) return;
    this.#taken = true;
    if (io.stat(this.path) !== null) return;
    const file = io.open(this.path, { createNew: true });
    try {
      file.writeSync(preparedFrame(this.#storeId), 0);
      await io.syncDir(this.#dir);
    } catch (error) {
      file.closeSync();
      throw error;
    }
    this.#file = file;
  }

  /**
   * Starts the prepared file's own sync thread ahead of the roll, for a log whose flushes
   * sync on such threads: the flush that acknowledges the rolled batch would otherwise
   * start it, an OS thread spawned between that batch and its fdatasync.
   */
  startSyncThread(): void {
    this.#file?.useSyncThread?.();
  }

  /** The prepared file for a roll, or null when none is ready. Its name stays taken until `released`. */
  take(): IoFile | null {
    const file = this.#file;
    this.#file = null;
    if (file !== null) this.#inUse = true;
    return file;
  }

  /** The segment that took the file has its own name now, durably: another may be prepared. */
  released(): void {
    this.#taken = false;
    this.#inUse = false;
  }

  /** At close: an unused file goes (open would remove it anyway). */
  discard(io: Io): void {
    const file = this.#file;
    if (file === null) return;
    this.#file = null;
    file.closeSync();
    try {
      io.remove(this.path);
    } catch (error) {
      if (!isKeelError(error)) throw error;
    }
  }
}

/** What a prepared file holds until a roll writes a segment header over it: the header's shape, its own magic. */
export function preparedFrame(storeId: Uint8Array): Uint8Array {
  return encodeFrame(versionedOffsetPayload(PREPARED_VERSION, 0, storeId), PREPARED_FORMAT);
}

export type PreparedFound =
  /** No prepared file. */
  | { kind: 'none' }
  /** One no roll used, or whose header a crash tore before any record: at most a header's bytes, removed. */
  | { kind: 'unused' }
  /** One whose header a crash tore, with bytes behind it but no whole record: set aside, as a torn segment is. */
  | { kind: 'torn'; bytes: number }
  /** One a roll used: a whole header of this log names the segment it is, under a name its rename never made durable. */
  | { kind: 'segment'; baseOffset: number };

/**
 * Open's read-only look at the prepared file. Anything that is not provably this log's
 * (a directory, a header of another store or version, bytes neither the prepared frame's
 * nor a header's, whole records behind a header that is not) is refused, untouched.
 */
export function surveyPrepared(io: Io, dir: string, storeId: Uint8Array): PreparedFound {
  const path = joinPath(dir, PREPARED_SEGMENT_NAME);
  const stat = io.stat(path);
  if (stat === null) return { kind: 'none' };
  if (!stat.isFile) throw notOurs(path, 'is not a regular file');
  const file = openIfPresent(io, path);
  // A writer in another process renamed it away between the listing and this look.
  if (file === null) return { kind: 'none' };
  try {
    const size = file.sizeSync();
    const head = new Uint8Array(Math.min(HEADER_BYTES, size));
    file.readSync(head, 0);
    const check = checkFrameAt(head, 0, HEADER_FORMAT);
    if (check.ok && check.frameBytes === HEADER_BYTES) return { kind: 'segment', baseOffset: headerBaseOffset(head, path, storeId) };
    if (!startsAsPrepared(head, storeId)) throw notOurs(path, 'holds neither the frame this log prepares nor a segment header of it');
    if (size <= HEADER_BYTES) return { kind: 'unused' };
    // A header is written with the first records: torn, it leaves no whole record behind it.
    if (findNextValidFrame(file, BATCH_FORMAT, 0, size) !== null) throw notOurs(path, 'holds whole records behind a header that is not whole');
    return { kind: 'torn', bytes: size };
  } finally {
    file.closeSync();
  }
}

function openIfPresent(io: Io, path: string): IoFile | null {
  try {
    return io.open(path);
  } catch (error) {
    if (isKeelError(error, 'KEEL_NOT_FOUND')) return null;
    throw error;
  }
}

/** The base offset a whole header frame names, once its version and store id are this log's. */
function headerBaseOffset(head: Uint8Array, path: string, storeId: Uint8Array): number {
  const view = viewOf(head.subarray(8, HEADER_BYTES - 4));
  const baseOffset = getUint64(view, 4);
  if (view.getUint16(0, true) !== FORMAT_VERSION || (view.getUint16(2, true) & ~HEADER_FLAGS_KNOWN) !== 0 || baseOffset === null) throw notOurs(path, 'holds a segment header of another version or with values out of range');
  if (!sameStoreId(head.subarray(8 + STORE_ID_AT, 8 + STORE_ID_AT + STORE_ID_BYTES), storeId)) throw notOurs(path, 'holds a segment header of another log (another store id)');
  return baseOffset;
}

/** Bytes of a header frame that hold its flags, name its base offset or are its CRC: a torn header's bytes there can be anything a header has. */
const FLAGS_AT = 10;
const BASE_OFFSET_AT = 12;
const CRC_AT = HEADER_BYTES - 4;

/**
 * Whether each byte is what a crash can leave of the prepared frame and a header written
 * over it: the prepared frame's byte, a header's byte for this log (any flags, base
 * offset and CRC), or zero (a hole). The first write to the file is the prepared frame and the only
 * write over it a header, so this is all a crash can leave before the first record.
 */
function startsAsPrepared(head: Uint8Array, storeId: Uint8Array): boolean {
  const prepared = preparedFrame(storeId);
  const header = encodeFrame(versionedOffsetPayload(FORMAT_VERSION, 0, storeId), HEADER_FORMAT);
  return head.every((byte, index) => byte === 0 || byte === prepared[index] || byte === header[index] || (index >= FLAGS_AT && index < BASE_OFFSET_AT + 8) || index >= CRC_AT);
}

function notOurs(path: string, what: string): KeelError {
  return new KeelError('KEEL_CORRUPT', `${path} ${what}: it is not a file this log prepared, and was left untouched`, { path, offset: 0 });
}
