import { FRAME_HEADER_BYTES, encodeFramesInto, frameBytes, sealFrameRun, writeFrameHeader } from '@keel/core';
import { JOURNAL_FRAME_FORMAT, alignDown, alignUp } from './format.js';
import type { ByteStorage } from './storage.js';

/** One write the log buffer wants handed to the OS. */
export interface PendingWrite {
  data: Uint8Array;
  position: number;
}

/**
 * Frames appended but not yet handed to the OS. `bytes[0]` sits at file offset `start`
 * (a multiple of `alignment`), and `start + length` is the journal's next LSN.
 *
 * With alignment 1 (buffered IO) a flush writes the buffer and empties it. With
 * alignment 4096 (O_DIRECT) a flush writes whole blocks, the last one padded with
 * zeros, and keeps that partial block so that the next flush rewrites it with more
 * frames in it: the bytes already written never change, only the padding does.
 *
 * `appendFrame` leaves the CRC of its frame open; every open CRC is filled in by one
 * native call (`sealFrameRun`) before any byte leaves the buffer, for a write or for a
 * reader. A crossing per record cost more than the CRC of a small record itself.
 */
export class LogBuffer {
  readonly #storage: ByteStorage;
  readonly #alignment: number;
  #start: number;
  #length: number;
  /** Every frame below this offset of the buffer has its CRC filled in. */
  #sealed: number;
  /** File offset through which the frames have been handed to the OS. */
  #handedThrough: number;

  constructor(storage: ByteStorage, alignment: number, start: number, resident: Uint8Array = new Uint8Array(0)) {
    if (start % alignment !== 0) throw new Error(`log buffer start ${start} is not aligned to ${alignment}`);
    this.#storage = storage;
    this.#alignment = alignment;
    this.#start = start;
    storage.grow(alignUp(resident.length + 1, alignment), 0);
    storage.bytes.set(resident);
    this.#length = resident.length;
    this.#sealed = resident.length;
    this.#handedThrough = start + resident.length;
  }

  /** The LSN the next frame will end after: every byte below it is appended. */
  get end(): number {
    return this.#start + this.#length;
  }

  get handedThrough(): number {
    return this.#handedThrough;
  }

  get pendingBytes(): number {
    return this.end - this.#handedThrough;
  }

  /** Writes one frame at the end of the buffer with its CRC left open (the payload was validated by the caller). */
  appendFrame(payload: Uint8Array): number {
    const at = this.#length;
    const end = at + frameBytes(payload.length);
    this.#reserve(end - at);
    const bytes = this.#storage.bytes;
    writeFrameHeader(bytes, at, payload.length, JOURNAL_FRAME_FORMAT);
    bytes.set(payload, at + FRAME_HEADER_BYTES);
    this.#length = end;
    return this.end;
  }

  /** Encodes a run of frames, `bytes` long in all, at the end of the buffer with one CRC crossing. */
  appendFrames(payloads: readonly Uint8Array[], bytes: number): number {
    this.#seal();
    this.#reserve(bytes);
    this.#length = encodeFramesInto(this.#storage.bytes, this.#length, payloads, JOURNAL_FRAME_FORMAT);
    this.#sealed = this.#length;
    return this.end;
  }

  /** The write that hands every pending frame to the OS, or null when there is none. */
  pendingWrite(): PendingWrite | null {
    if (this.pendingBytes === 0) return null;
    this.#seal();
    const writeBytes = alignUp(this.#length, this.#alignment);
    const bytes = this.#storage.bytes;
    // The padding of the last block must be zeros: recovery cuts a zero tail on reopen.
    if (writeBytes > this.#length) bytes.fill(0, this.#length, writeBytes);
    return { data: bytes.subarray(0, writeBytes), position: this.#start };
  }

  /** Called after `pendingWrite()` was written: drops every whole block that was written. */
  written(): void {
    const keepFrom = alignDown(this.#length, this.#alignment);
    const bytes = this.#storage.bytes;
    // Only direct IO keeps a partial block to move to the front; buffered IO keeps nothing.
    if (keepFrom > 0 && keepFrom < this.#length) bytes.copyWithin(0, keepFrom, this.#length);
    this.#start += keepFrom;
    this.#length -= keepFrom;
    this.#sealed = this.#length;
    this.#handedThrough = this.end;
  }

  /** Copies bytes at file offset `position` (at or after `start`) into `into`; returns how many. */
  read(into: Uint8Array, position: number): number {
    const offset = position - this.#start;
    if (offset < 0) throw new Error(`log buffer read at ${position} is before its start ${this.#start}`);
    const bytes = Math.max(0, Math.min(into.length, this.#length - offset));
    this.#seal();
    into.set(this.#storage.bytes.subarray(offset, offset + bytes));
    return bytes;
  }

  /** After a very large record, gives the memory back instead of keeping it for good. */
  trim(maxBytes: number): void {
    if (this.#storage.bytes.length <= maxBytes) return;
    this.#storage.shrink(alignUp(Math.max(maxBytes / 2, this.#length + 1), this.#alignment), this.#length);
  }

  /** Fills in every open CRC: the frames from `#sealed` to the end tile that region exactly. */
  #seal(): void {
    if (this.#sealed === this.#length) return;
    sealFrameRun(this.#storage.bytes.subarray(this.#sealed, this.#length));
    this.#sealed = this.#length;
  }

  #reserve(bytes: number): void {
    const needed = alignUp(this.#length + bytes, this.#alignment);
    if (needed > this.#storage.bytes.length) this.#storage.grow(needed, this.#length);
  }
}
