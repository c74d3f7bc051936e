import { Buffer } from 'node:buffer';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, crc32c, joinPath, type Io, type IoFile } from '@keel/core';
import {
  LOG_HEADER_FRAME_BYTES,
  OPERATION_HEADER_BYTES,
  OPERATION_PUT,
  RECORD_HEADER_BYTES,
  TEMPORARY_SUFFIX,
  VALUE_CRC_BYTES,
  encodeLogHeader,
  encodeOperationHeader,
  logFileName,
  sealRecordFrame,
  writeRecordPlace,
  viewOf,
  type LogHeader,
} from './format.js';
import { ENTRY_FIELDS, type KeyIndex } from './key-index.js';
import { COMPACTION_RECORD_BYTES, KEY_BYTES_MAX } from './limits.js';

export interface CompactedLog {
  file: IoFile;
  temporaryPath: string;
  finalPath: string;
  generation: number;
  end: number;
  lastFrameStart: number;
  /** The index slots of the live keys in log order, and where each value lives in the new log. */
  slots: Uint32Array;
  positions: Float64Array;
}


/**
 * Writes every live value into `wal-<generation>.log.tmp`, in the order of the old log
 * (so seqs stay increasing), each with its original seq. Runs synchronously so that the
 * index it copies cannot change underneath it; the caller then switches to the new file
 * and makes it durable before it renames it into place. Every value is verified against
 * its CRC as it is read, then copied with that CRC: compaction never launders corruption
 * into a fresh log.
 */
export function writeCompactedLog(
  io: Io,
  dir: string,
  header: LogHeader,
  index: KeyIndex,
  readVerifiedField: (keyCrc: number, position: number, length: number) => Uint8Array,
): CompactedLog {
  const { generation } = header;
  const finalPath = joinPath(dir, logFileName(generation));
  const temporaryPath = finalPath + TEMPORARY_SUFFIX;
  const slots = index.table.liveInLogOrder();
  const file = io.open(temporaryPath, { create: true, truncate: true });
  try {
    file.writeSync(encodeLogHeader(header), 0);
    const writer = new CompactionRecords(file, generation, LOG_HEADER_FRAME_BYTES, slots.length);
    for (let i = 0; i < slots.length; i++) writer.add(i, index, slots[i]!, readVerifiedField);
    writer.finish();
    return { file, temporaryPath, finalPath, generation, end: writer.end, lastFrameStart: writer.lastFrameStart, slots, positions: writer.positions };
  } catch (error) {
    file.closeSync();
    io.remove(temporaryPath);
    throw error;
  }
}

/** Packs copied puts into record frames of about COMPACTION_RECORD_BYTES, built in place. */
class CompactionRecords {
  readonly #file: IoFile;
  /** Per live key, the file offset of its value CRC in the new log. */
  readonly positions: Float64Array;
  end: number;
  lastFrameStart = 0;
  #buffer = Buffer.allocUnsafe(COMPACTION_RECORD_BYTES + FRAME_OVERHEAD_BYTES);
  #view = viewOf(this.#buffer);
  #used = FRAME_HEADER_BYTES + RECORD_HEADER_BYTES;
  readonly #fields = new Float64Array(ENTRY_FIELDS);
  #first = 0;
  #count = 0;

  readonly #generation: number;

  constructor(file: IoFile, generation: number, end: number, live: number) {
    this.#file = file;
    this.#generation = generation;
    this.end = end;
    this.positions = new Float64Array(live);
  }

  /**
   * Adds the put of live key number `ordinal` (index slot `slot`): its key goes straight
   * from the index into the record, its CRC and value are copied once verified.
   */
  add(ordinal: number, index: KeyIndex, slot: number, readVerifiedField: (keyCrc: number, position: number, length: number) => Uint8Array): void {
    // Room for the largest key; the value's room is checked once its length is known.
    this.#ensure(OPERATION_HEADER_BYTES + KEY_BYTES_MAX);
    const keyAt = this.#used + OPERATION_HEADER_BYTES;
    const keyLength = index.table.entryAt(slot, this.#fields, this.#buffer, keyAt);
    const [position, length, seq] = [this.#fields[0]!, this.#fields[1]!, this.#fields[2]!];
    const field = readVerifiedField(crc32c(this.#buffer.subarray(keyAt, keyAt + keyLength)), position, length);
    const bytes = OPERATION_HEADER_BYTES + keyLength + field.length;
    if (this.#used + bytes + FRAME_TRAILER_BYTES > this.#buffer.length) {
      // Start a new frame (or grow) and write the key again there.
      const key = Buffer.from(this.#buffer.subarray(keyAt, keyAt + keyLength));
      this.#ensure(bytes);
      this.#buffer.set(key, this.#used + OPERATION_HEADER_BYTES);
    }
    if (this.#count === 0) this.#first = ordinal;
    encodeOperationHeader(this.#view, this.#used, OPERATION_PUT, keyLength, length, seq);
    const fieldAt = this.#used + OPERATION_HEADER_BYTES + keyLength;
    this.#buffer.set(field, fieldAt);
    this.positions[ordinal] = fieldAt; // made absolute when the frame's place is known
    this.#used += bytes;
    this.#count++;
  }

  /** Seals and writes the frame being built, if any. */
  finish(): void {
    if (this.#count === 0) return;
    this.#view.setUint32(FRAME_HEADER_BYTES, this.#count, true);
    writeRecordPlace(this.#buffer, 0, this.end, this.#generation);
    const frameBytes = sealRecordFrame(this.#buffer, 0, this.#used - FRAME_HEADER_BYTES);
    this.#file.writeSync(this.#buffer.subarray(0, frameBytes), this.end);
    for (let i = this.#first; i < this.#first + this.#count; i++) this.positions[i] = this.positions[i]! + this.end;
    this.lastFrameStart = this.end;
    this.end += frameBytes;
    this.#used = FRAME_HEADER_BYTES + RECORD_HEADER_BYTES;
    this.#count = 0;
  }

  /** Makes room for `bytes` more operation bytes: seals the frame being built if it is full, grows for one large value. */
  #ensure(bytes: number): void {
    if (this.#count > 0 && this.#used + bytes + FRAME_TRAILER_BYTES > this.#buffer.length) this.finish();
    if (this.#used + bytes + FRAME_TRAILER_BYTES > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(this.#used + bytes + FRAME_TRAILER_BYTES);
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
      this.#view = viewOf(this.#buffer);
    }
  }
}
