import { FRAME_SCAN_STOP, decodeScan, scanFrames } from '@keel/native';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, readU32LittleEndian, type FrameFormat, type TailState } from './frame.js';
import { framesEndsCapacity, tailStateOf } from './frame-scanner.js';
import { PAGE_BYTES, allocReadMemory, placedIndex } from './read-placement.js';

/** Where a chunk reader reads from: an IoFile satisfies this. */
export interface AsyncFrameSource {
  /** Reads into `into` from `position`; resolves with the bytes read, fewer than asked only at the end. */
  read(into: Uint8Array, position: number): Promise<number>;
}

/** A run of whole, checked frames. It and its arrays are valid only until the reader's next `next()`. */
export interface FrameChunk {
  /** The frames, back to back from bytes[0]. */
  bytes: Uint8Array;
  /** File position of bytes[0]. */
  position: number;
  /** How many frames; the end of frame i, relative to `bytes`, is ends[i]. */
  count: number;
  ends: Uint32Array;
}

/**
 * Reads this size at a time: large enough that a read's fixed costs (a trip to the
 * threadpool and back, 25–130 µs on the machines measured) stay small beside its copy,
 * small enough to stay in the last-level cache while it is checked.
 */
export const CHUNK_READ_BYTES_DEFAULT = 4 << 20;
/**
 * Room kept in front of each buffer for the part of a frame the previous read cut off.
 * A frame that does not fit restarts the reader with more room (one read repeated).
 */
const CARRY_BYTES_INITIAL = 64 * 1024;

interface Settled {
  filled: number;
  error: unknown;
}

interface Slot {
  /** The carry room, a chunk, and a page of slack to place each read in. */
  buffer: Uint8Array;
  /** The read filling buffer[start ...], settled without rejecting (a read nobody awaits must not become an unhandled rejection). */
  reading: Promise<Settled> | null;
  /** File position the read started at. */
  position: number;
  /** Where in `buffer` the read lands: past the carry room, placed for its position (see read-placement). */
  start: number;
}

/**
 * Reads frames `[from, to)` with asynchronous reads, double-buffered: while the caller
 * works on one chunk, the next chunk's read is already in flight on the threadpool.
 * Each chunk is checked by one native call (magic, bounded length, CRC-32C of every
 * frame). The bytes of a frame a read cut off are carried to the front of the next
 * buffer, so every frame handed out is whole in one buffer. Memory is two buffers of
 * `chunkBytes` plus the carry room and a page, allocated once; a frame larger than the
 * carry room (its length already bounded by the format's maximum) grows it. Each read
 * lands where the copy out of the page cache runs page to page (see read-placement).
 */
export class FrameChunkReader {
  readonly #source: AsyncFrameSource;
  readonly #format: FrameFormat;
  readonly #to: number;
  readonly #chunkBytes: number;
  #carry = CARRY_BYTES_INITIAL;
  #slots: [Slot, Slot];
  #current = 0;
  #ends: Uint32Array;
  /** Next file position to read from. */
  #readPosition: number;
  /** The start of a frame the last chunk cut off: `#tail` bytes at `#tailAt` of the other slot's buffer. */
  #tail = 0;
  #tailAt = 0;
  /** Position just past the last whole frame handed out. */
  #valid: number;
  #state: TailState | null = null;

  constructor(source: AsyncFrameSource, format: FrameFormat, options: { from: number; to: number; chunkBytes?: number }) {
    if (!(options.from >= 0 && options.from <= options.to)) throw new Error(`a chunk reader needs 0 <= from <= to, got ${options.from} and ${options.to}`);
    this.#source = source;
    this.#format = format;
    this.#to = options.to;
    this.#readPosition = options.from;
    this.#valid = options.from;
    this.#chunkBytes = Math.max(FRAME_OVERHEAD_BYTES, Math.min(options.chunkBytes ?? CHUNK_READ_BYTES_DEFAULT, options.to - options.from));
    this.#slots = [this.#newSlot(), this.#newSlot()];
    this.#ends = new Uint32Array(framesEndsCapacity(this.#carry + this.#chunkBytes));
  }

  /** Why reading stopped (`clean-end` at `to`); null while frames may remain. */
  get tailState(): TailState | null {
    return this.#state;
  }

  /** Position just past the last whole, checked frame handed out. */
  get validBytes(): number {
    return this.#valid;
  }

  /** The next run of checked frames, or null once reading has stopped (see `tailState`). */
  async next(): Promise<FrameChunk | null> {
    while (this.#state === null) {
      const slot = this.#slots[this.#current]!;
      const other = this.#slots[1 - this.#current]!;
      slot.reading ??= this.#issue(slot);
      const { filled, error } = await slot.reading;
      slot.reading = null;
      if (error !== undefined) throw error;
      // The cut-off frame start moves in front of this chunk before the other buffer is read into.
      const windowStart = slot.start - this.#tail;
      if (this.#tail > 0) slot.buffer.set(other.buffer.subarray(this.#tailAt, this.#tailAt + this.#tail), windowStart);
      const atEnd = slot.position + filled >= this.#to || filled < this.#wanted(slot.position);
      // The other buffer's chunk was the caller's until this call: read ahead into it now.
      if (!atEnd) other.reading = this.#issue(other);
      const window = slot.buffer.subarray(windowStart, slot.start + filled);
      const position = slot.position - this.#tail;
      const ends = this.#ends;
      const { count, stop } = decodeScan(scanFrames(window, this.#format.magic, this.#format.payloadBytesMax, ends));
      const used = count === 0 ? 0 : ends[count - 1]!;
      this.#tail = window.length - used;
      this.#tailAt = windowStart + used;
      this.#current = 1 - this.#current;
      if (stop !== FRAME_SCAN_STOP.end && stop !== FRAME_SCAN_STOP.partialHeader && stop !== FRAME_SCAN_STOP.partialPayload) {
        this.#state = tailStateOf(stop);
      } else if (atEnd) {
        this.#state = this.#tail === 0 ? 'clean-end' : stop === FRAME_SCAN_STOP.partialHeader ? 'truncated-header' : 'truncated-payload';
      } else if (this.#tail > this.#carry) {
        await this.#restartWithRoom(other, position + used, window, used);
      }
      if (count > 0) {
        this.#valid = position + used;
        // The ends of this window, even when a restart above replaced the array for the next one.
        return { bytes: window, position, count, ends };
      }
    }
    return null;
  }

  /** Bytes a read at `position` asks for. */
  #wanted(position: number): number {
    return Math.min(this.#chunkBytes, this.#to - position);
  }

  #issue(slot: Slot): Promise<Settled> {
    const position = this.#readPosition;
    const wanted = this.#wanted(position);
    slot.position = position;
    slot.start = placedIndex(slot.buffer, this.#carry, position);
    this.#readPosition = position + wanted;
    return this.#source.read(slot.buffer.subarray(slot.start, slot.start + wanted), position).then(
      (filled) => ({ filled, error: undefined }),
      (error: unknown) => ({ filled: 0, error: error ?? new Error('read failed') }),
    );
  }

  /**
   * A frame longer than the carry room runs past this chunk: wait for the read ahead, then
   * read again from the frame's start with room for all of it. Its length was compared
   * with the format's maximum by the native check before it sizes anything.
   */
  async #restartWithRoom(readAhead: Slot, frameStart: number, window: Uint8Array, used: number): Promise<void> {
    if (readAhead.reading !== null) await readAhead.reading;
    const announced = window.length - used >= FRAME_HEADER_BYTES ? readU32LittleEndian(window, used + 4) + FRAME_OVERHEAD_BYTES : FRAME_HEADER_BYTES;
    this.#carry = Math.max(this.#carry * 2, announced);
    this.#slots = [this.#newSlot(), this.#newSlot()];
    this.#ends = new Uint32Array(framesEndsCapacity(this.#carry + this.#chunkBytes));
    this.#current = 0;
    this.#readPosition = frameStart;
    this.#tail = 0;
  }

  #newSlot(): Slot {
    return { buffer: allocReadMemory(this.#carry + this.#chunkBytes), reading: null, position: 0, start: this.#carry };
  }
}
