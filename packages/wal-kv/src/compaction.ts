import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, FrameScanner, KeelError, joinPath, type Io, type IoFile, type KeyTable, type ScannedFrame } from '@keel/core';
import {
  LOG_RECORD_FORMAT,
  OPERATION_DELETE,
  OPERATION_HEADER_BYTES,
  OPERATION_PUT,
  RECORD_HEADER_BYTES,
  TEMPORARY_SUFFIX,
  VALUE_CRC_BYTES,
  encodeLogHeader,
  logFileName,
  recordPlace,
  sealRecordFrame,
  viewOf,
  writeRecordPlace,
  type LogHeader,
} from './format.js';
import { ENTRY_FIELDS, type KeyIndex } from './key-index.js';
import { COMPACTION_CALLS_PER_RECORD_MAX, COMPACTION_PUTS_PER_CALL, COMPACTION_RECORD_BYTES, COMPACTION_STAGE_BYTES } from './limits.js';
import { Relocations } from './relocations.js';
import type { SliceClock } from './slices.js';
import { WriteBehind } from './write-behind.js';

/**
 * Puts per `copyLivePuts` call for a record of `puts` puts. Each call checks the whole
 * record again, so a record of a million puts is taken in at most
 * COMPACTION_CALLS_PER_RECORD_MAX calls rather than hundreds: compacting one such record
 * (half of it live) took 11 s of CPU in calls of 2,048 puts and takes about 0.5 s now,
 * in turns of about 16 ms.
 */
function putsPerCallFor(puts: number): number {
  return Math.max(COMPACTION_PUTS_PER_CALL, Math.ceil(puts / COMPACTION_CALLS_PER_RECORD_MAX));
}

/** What one `KeyTable.copyLivePuts` call did. */
type LiveCopyReport = ReturnType<KeyTable['copyLivePuts']>;

/** The code `KeyTable.copyLivePuts` throws with for a record that does not check out (damage on disk). */
const RECORD_DAMAGED = 'RecordDamaged';

/** The old log a compaction reads: its file, name and generation. */
export interface OldLog {
  readonly file: IoFile;
  readonly path: string;
  readonly generation: number;
}

/**
 * The next log generation, written as `wal-<generation>.log.tmp` while the store goes on
 * writing to the old one. It is made in two parts, both read back from the old log
 * through its frame CRCs (compaction never launders damage into a fresh log) and checked
 * against their place:
 *
 * 1. `copyLive`: the old log up to where the compaction began, frame by frame in slices;
 *    every put that still holds its key's value is copied as it is (its seq and value
 *    CRC included) into new record frames, in log order, so seqs stay increasing.
 * 2. `copyFrames`: what was written since, whole frames (so batches stay atomic) with
 *    only their place re-sealed; the last of it in the same turn as the switch.
 *
 * Replaying the new log therefore gives the store as it is at the switch. Every copied
 * put whose key still holds it moves in the index at the switch (see `Relocations`).
 *
 * Outside the switch's turn its writes run on the threadpool (a write of a megabyte can
 * wait tens of milliseconds for the page cache on a busy machine, which would stall the
 * event loop), a few at a time and synced as they go (see `WriteBehind`); each part waits
 * for them before it returns, so the new log is complete up
 * to `end` whenever the store may read or write it, and `abandon` waits for them before
 * it closes the file.
 */
export class CompactionCopy {
  readonly file: IoFile;
  readonly temporaryPath: string;
  readonly finalPath: string;
  readonly generation: number;
  readonly relocations: Relocations;
  /** Offset just past the last frame written. */
  end: number;
  lastFrameStart = 0;
  /** Operation bytes of the old log left behind: all dead (overwritten or deleted puts, and deletes). */
  uncopiedBytes = 0;
  readonly #old: OldLog;
  readonly #fields = new Float64Array(ENTRY_FIELDS);
  /** The frame being built: copied puts, or one old frame being re-placed. */
  #buffer = Buffer.allocUnsafe(COMPACTION_RECORD_BYTES + FRAME_OVERHEAD_BYTES);
  #view = viewOf(this.#buffer);
  #used = FRAME_HEADER_BYTES + RECORD_HEADER_BYTES;
  #count = 0;
  /** Small sealed frames (most of what was written meanwhile) wait here, to be written together. */
  #stage = Buffer.allocUnsafe(COMPACTION_STAGE_BYTES);
  #staged = 0;
  /** Writes on the threadpool not yet waited for; none while `#writeNow` (the switch's turn). */
  readonly #writing: WriteBehind;
  #writeNow = false;
  /** Buffers whose write finished, for reuse (a buffer being written is never touched). */
  readonly #spare: Buffer<ArrayBuffer>[] = [];

  private constructor(file: IoFile, temporaryPath: string, finalPath: string, header: LogHeader, old: OldLog) {
    this.file = file;
    this.temporaryPath = temporaryPath;
    this.finalPath = finalPath;
    this.generation = header.generation;
    this.#old = old;
    this.#writing = new WriteBehind(file);
    this.relocations = new Relocations();
    const encoded = encodeLogHeader(header);
    file.writeSync(encoded, 0);
    this.end = encoded.length;
  }

  /** Creates the new log's `.tmp` with its header. */
  static create(io: Io, dir: string, header: LogHeader, old: OldLog): CompactionCopy {
    const finalPath = joinPath(dir, logFileName(header.generation));
    const temporaryPath = finalPath + TEMPORARY_SUFFIX;
    const file = io.open(temporaryPath, { create: true, truncate: true });
    try {
      return new CompactionCopy(file, temporaryPath, finalPath, header, old);
    } catch (error) {
      file.closeSync();
      io.remove(temporaryPath);
      throw error;
    }
  }

  /**
   * Part 1: the live puts of the old log's frames in [from, to), a slice per turn of the
   * event loop. Which puts of a frame are live is asked of the index in one call per frame.
   */
  async copyLive(from: number, to: number, index: KeyIndex, clock: SliceClock): Promise<void> {
    const scanner = new FrameScanner(this.#old.file, LOG_RECORD_FORMAT, { from, to });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
      const count = this.#checkedCount(frame);
      // The frame being built takes every put of this one, if it has to: live puts are
      // copied as they are.
      const payloadBytes = frame.payload.length;
      if (this.#count > 0 && this.#used + payloadBytes + FRAME_TRAILER_BYTES > this.#buffer.length) this.#sealFrame();
      this.#reserve(this.#used + payloadBytes + FRAME_TRAILER_BYTES);
      // A frame an earlier compaction wrote holds thousands of puts (a megabyte): the
      // slice may end inside it. A put found live here and overwritten or deleted during
      // a pause is copied still: the write that superseded it is in the old log past
      // `to`, and the catch-up copies it after it (the index only moves values that are
      // still where the copy found them).
      let copiedBytes = 0;
      let puts = 1; // until the first call tells
      let putsPerCall = COMPACTION_PUTS_PER_CALL;
      for (let first = 0; first < puts; ) {
        const copy = this.#copyLivePuts(frame, index, first, putsPerCall);
        copiedBytes += copy.bytes;
        const looked = copy.next - first;
        [first, puts] = [copy.next, copy.puts];
        putsPerCall = putsPerCallFor(puts);
        // Its dead puts were work too (their keys were looked up): a run of records with
        // nothing live in them must not pass in one turn.
        if (clock.due(looked)) await this.#pause(clock);
      }
      this.uncopiedBytes += payloadBytes - RECORD_HEADER_BYTES - copiedBytes;
      if (clock.due(count - puts)) await this.#pause(clock);
    }
    this.#checkScanned(scanner, to);
    this.#sealFrame();
    this.#writeStaged();
    await this.#writing.settled();
  }

  /** Part 2: the old log's frames in [from, to), whole, a slice per turn. */
  async copyFrames(from: number, to: number, index: KeyIndex, clock: SliceClock): Promise<void> {
    const scanner = new FrameScanner(this.#old.file, LOG_RECORD_FORMAT, { from, to });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
      if (clock.due(this.#copyFrame(frame, index))) await this.#pause(clock);
    }
    this.#checkScanned(scanner, to);
    this.#writeStaged();
    await this.#writing.settled();
  }

  /** Part 2 in this turn (the switch): the old log's frames in [from, to), whole. */
  copyFramesNow(from: number, to: number, index: KeyIndex): void {
    if (from === to) return;
    this.#writeNow = true;
    const scanner = new FrameScanner(this.#old.file, LOG_RECORD_FORMAT, { from, to });
    for (let frame = scanner.next(); frame !== null; frame = scanner.next()) this.#copyFrame(frame, index);
    this.#checkScanned(scanner, to);
    this.#writeStaged();
  }

  /**
   * Gives up: once its writes are over, the `.tmp` is closed and removed; nothing else
   * changed. Never throws (the caller reports why it gave up): a `.tmp` left behind is
   * removed by the next open.
   */
  async abandon(io: Io): Promise<void> {
    await this.#writing.quiesce();
    try {
      this.file.closeSync();
      io.remove(this.temporaryPath);
    } catch {
      // See above.
    }
  }

  /**
   * Copies the live puts among the frame's puts from the `first`th on (at most
   * `putsPerCall` of them) to the end of the frame being built, which has room
   * for them, and their moves into the relocations (see `KeyTable.copyLivePuts`).
   */
  #copyLivePuts(frame: ScannedFrame, index: KeyIndex, first: number, putsPerCall: number): LiveCopyReport {
    const moves = this.relocations.room(putsPerCall);
    let copy: LiveCopyReport;
    try {
      // The frame being built goes at the new log's end (`#sealFrame`).
      copy = index.table.copyLivePuts(frame.payload, frame.offset + FRAME_HEADER_BYTES, first, putsPerCall, this.#buffer, this.#used, this.end, moves.slots, moves.from, moves.to, moves.length);
    } catch (error) {
      // Only damage is the log's fault. Anything else (a wrong call: a bug) is thrown as
      // it is, so that it is neither taken for corruption nor left to pass as harmless.
      if ((error as { code?: unknown }).code !== RECORD_DAMAGED) throw error;
      throw this.#corrupt(frame.offset, (error as Error).message);
    }
    this.relocations.added(copy.copied);
    this.#used += copy.bytes;
    this.#count += copy.copied;
    return copy;
  }

  /** Seals and writes the frame of copied puts being built, if any. */
  #sealFrame(): void {
    if (this.#count === 0) return;
    this.#view.setUint32(FRAME_HEADER_BYTES, this.#count, true);
    this.#writeFrame(this.#used - FRAME_HEADER_BYTES);
    this.#used = FRAME_HEADER_BYTES + RECORD_HEADER_BYTES;
    this.#count = 0;
  }

  /** Re-places one old frame at the new log's end and writes it; notes where its puts moved. Returns its operation count. */
  #copyFrame(frame: ScannedFrame, index: KeyIndex): number {
    const payload = frame.payload;
    const count = this.#checkedCount(frame);
    const view = viewOf(payload);
    const moved = this.end - frame.offset;
    let at = RECORD_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      const end = this.#operationEnd(frame, view, at);
      const keyLength = view.getUint16(at + 1, true);
      const keyEnd = at + OPERATION_HEADER_BYTES + keyLength;
      const position = frame.offset + FRAME_HEADER_BYTES + keyEnd;
      if (payload[at] === OPERATION_PUT) {
        const slot = index.table.find(payload.subarray(keyEnd - keyLength, keyEnd), keyLength, this.#fields);
        if (slot >= 0 && this.#fields[0] === position) this.relocations.add(slot, position, position + moved);
      }
      at = end;
    }
    if (at !== payload.length) throw this.#corrupt(frame.offset, `has ${payload.length - at} bytes after its ${count} operations`);
    this.#reserve(payload.length + FRAME_OVERHEAD_BYTES);
    this.#buffer.set(payload, FRAME_HEADER_BYTES);
    this.#writeFrame(payload.length);
    return count;
  }

  /** Places and seals the frame in the buffer at the new log's end, and stages or writes it. */
  #writeFrame(payloadBytes: number): void {
    writeRecordPlace(this.#buffer, 0, this.end, this.generation);
    const frameBytes = sealRecordFrame(this.#buffer, 0, payloadBytes);
    const alone = frameBytes * 2 > this.#stage.length;
    // The staged frames end where this one starts (`#writeStaged` writes them there): a
    // frame written on its own goes after them, so they are written first.
    if (alone || this.#staged + frameBytes > this.#stage.length) this.#writeStaged();
    if (alone) {
      this.#write(this.#buffer, frameBytes, this.end);
      if (!this.#writeNow) [this.#buffer, this.#view] = this.#replacement(this.#buffer);
    } else {
      this.#staged += this.#buffer.copy(this.#stage, this.#staged, 0, frameBytes);
    }
    this.lastFrameStart = this.end;
    this.end += frameBytes;
  }

  /** Writes the staged frames, which end at the new log's end. */
  #writeStaged(): void {
    if (this.#staged === 0) return;
    this.#write(this.#stage, this.#staged, this.end - this.#staged);
    if (!this.#writeNow) this.#stage = this.#replacement(this.#stage)[0];
    this.#staged = 0;
  }

  /** Writes `buffer[0..bytes]` at `at`: on the threadpool (the caller then stops using `buffer`), or now in the switch's turn. */
  #write(buffer: Buffer<ArrayBuffer>, bytes: number, at: number): void {
    if (this.#writeNow) {
      this.file.writeSync(buffer.subarray(0, bytes), at);
      return;
    }
    this.#writing.write(buffer.subarray(0, bytes), at, () => this.#spare.push(buffer));
  }

  /** Ends a slice: the turn of the event loop, once the writes in flight allow it. */
  async #pause(clock: SliceClock): Promise<void> {
    await this.#writing.throttle();
    await clock.pause();
  }

  /** A buffer of the same size as `busy` (which is being written) and its view: a spare one, or a new one. */
  #replacement(busy: Buffer): [Buffer<ArrayBuffer>, DataView] {
    const index = this.#spare.findIndex((spare) => spare.length === busy.length);
    const buffer = index >= 0 ? this.#spare.splice(index, 1)[0]! : Buffer.allocUnsafe(busy.length);
    return [buffer, viewOf(buffer)];
  }

  /** The operation count of an old frame that carries its own place. */
  #checkedCount(frame: ScannedFrame): number {
    const payload = frame.payload;
    if (payload.length < RECORD_HEADER_BYTES) throw this.#corrupt(frame.offset, 'is shorter than a record header');
    const view = viewOf(payload);
    if (view.getUint32(4, true) !== recordPlace(frame.offset, this.#old.generation)) throw this.#corrupt(frame.offset, 'does not carry its own place (written elsewhere, or copied from another generation)');
    return view.getUint32(0, true);
  }

  /** The end of the operation at `at`, every length bounded by the payload first. */
  #operationEnd(frame: ScannedFrame, view: DataView, at: number): number {
    const length = frame.payload.length;
    if (at + OPERATION_HEADER_BYTES > length) throw this.#corrupt(frame.offset, `ends inside an operation header at ${at}`);
    const type = view.getUint8(at);
    const keyEnd = at + OPERATION_HEADER_BYTES + view.getUint16(at + 1, true);
    const end = type === OPERATION_PUT ? keyEnd + VALUE_CRC_BYTES + view.getUint32(at + 3, true) : keyEnd;
    if ((type !== OPERATION_PUT && type !== OPERATION_DELETE) || end > length) throw this.#corrupt(frame.offset, `has a bad operation at ${at}`);
    return end;
  }

  #checkScanned(scanner: FrameScanner, to: number): void {
    if (scanner.validBytes !== to) throw this.#corrupt(scanner.validBytes, `is damaged (${scanner.tailState ?? 'short'})`);
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(bytes);
    grown.set(this.#buffer.subarray(0, this.#used));
    this.#buffer = grown;
    this.#view = viewOf(grown);
  }

  #corrupt(offset: number, reason: string): KeelError {
    const path = this.#old.path;
    return new KeelError('KEEL_CORRUPT', `${path}: the record at offset ${offset} ${reason}. Compaction stopped; the log was left as it was`, { path, offset });
  }
}
