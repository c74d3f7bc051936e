import { FRAME_SCAN_STOP, decodeScan, scanFrames, scanFramesAsync } from '@keel/native';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, readU32LittleEndian, type FrameFormat, type TailState } from './frame.js';
import { framesEndsCapacity, tailStateOf } from './frame-scanner.js';

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

/** Reads this size at a time: large enough that a read's fixed costs vanish, small enough to stay in the cache while it is checked. */
export const CHUNK_READ_BYTES_DEFAULT = 1 << 20;
/**
 * Room kept in front of each buffer for the part of a frame the previous read cut off.
 * A frame that does not fit restarts the reader with more room (one read repeated).
 */
const CARRY_BYTES_INITIAL = 64 * 1024;
/**
 * Windows at least this large are checked on the threadpool, beside the JS thread handing
 * out the chunk before; a smaller one costs less to check at once than the hop would.
 */
const ASYNC_CHECK_BYTES_MIN = 64 * 1024;

/** A slot's read and the check of its window, settled without rejecting (a read nobody awaits must not become an unhandled rejection). */
interface Settled {
  filled: number;
  /** `scanFrames`'s result for the window. */
  scan: number;
  error: unknown;
}

interface Slot {
  buffer: Uint8Array;
  /** The frame ends the check of this slot's window writes. */
  ends: Uint32Array;
  reading: Promise<Settled> | null;
  /** File position the read started at (buffer[carry]). */
  position: number;
  /** Bytes of a frame the previous chunk cut off, copied in front of buffer[carry] before the check. */
  tail: number;
}

/**
 * Reads frames `[from, to)` with asynchronous reads, double-buffered: while the caller
 * works on one chunk, the next chunk is read and then checked on the threadpool. Each
 * chunk is checked by one native call (magic, bounded length, CRC-32C of every frame).
 * The bytes of a frame a read cut off are copied to the front of the next buffer before
 * its check, so every frame handed out is whole in one buffer. Memory is two buffers of
 * `chunkBytes` plus the carry room, allocated once; a frame larger than the carry room
 * (its length already bounded by the format's maximum) grows it.
 */
export class FrameChunkReader {
  readonly #source: AsyncFrameSource;
  readonly #format: FrameFormat;
  readonly #to: number;
  readonly #chunkBytes: number;
  #carry = CARRY_BYTES_INITIAL;
  #slots: [Slot, Slot];
  #current = 0;
  /** Next file position to read from. */
  #readPosition: number;
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
      slot.reading ??= this.#issue(slot, 0);
      const { filled, scan, error } = await slot.reading;
      slot.reading = null;
      if (error !== undefined) throw error;
      const window = slot.buffer.subarray(this.#carry - slot.tail, this.#carry + filled);
      const position = slot.position - slot.tail;
      const ends = slot.ends;
      const { count, stop } = decodeScan(scan);
      const used = count === 0 ? 0 : ends[count - 1]!;
      const tail = window.length - used;
      const atEnd = slot.position + filled >= this.#to || filled < this.#wanted(slot.position);
      this.#current = 1 - this.#current;
      if (stop !== FRAME_SCAN_STOP.end && stop !== FRAME_SCAN_STOP.partialHeader && stop !== FRAME_SCAN_STOP.partialPayload) {
        this.#state = tailStateOf(stop);
      } else if (atEnd) {
        this.#state = tail === 0 ? 'clean-end' : stop === FRAME_SCAN_STOP.partialHeader ? 'truncated-header' : 'truncated-payload';
      } else if (tail > this.#carry) {
        this.#restartWithRoom(position + used, window, used);
      } else {
        // The other buffer's chunk was the caller's until this call: the cut-off frame
        // start goes in front of it, then the next chunk is read and checked behind it.
        other.buffer.set(window.subarray(used), this.#carry - tail);
        other.reading = this.#issue(other, tail);
      }
      if (count > 0) {
        this.#valid = position + used;
        return { bytes: window, position, count, ends };
      }
    }
    return null;
  }

  /** Bytes a read at `position` asks for. */
  #wanted(position: number): number {
    return Math.min(this.#chunkBytes, this.#to - position);
  }

  /** Reads the next chunk into `slot` behind `tail` bytes already in front of it, then checks the window. */
  #issue(slot: Slot, tail: number): Promise<Settled> {
    const position = this.#readPosition;
    const wanted = this.#wanted(position);
    const carry = this.#carry;
    slot.position = position;
    slot.tail = tail;
    this.#readPosition = position + wanted;
    return this.#source
      .read(slot.buffer.subarray(carry, carry + wanted), position)
      .then(async (filled) => ({ filled, scan: await this.#check(slot.buffer.subarray(carry - tail, carry + filled), slot.ends), error: undefined }))
      .catch((error: unknown) => ({ filled: 0, scan: 0, error: error ?? new Error('read failed') }));
  }

  #check(window: Uint8Array, ends: Uint32Array): number | Promise<number> {
    const { magic, payloadBytesMax } = this.#format;
    return window.length >= ASYNC_CHECK_BYTES_MIN ? scanFramesAsync(window, magic, payloadBytesMax, ends) : scanFrames(window, magic, payloadBytesMax, ends);
  }

  /**
   * A frame longer than the carry room runs past this chunk: read again from the frame's
   * start with room for all of it. Its length was compared with the format's maximum by
   * the native check before it sizes anything. No read is in flight here: the read ahead
   * is issued only once the chunk before it fit.
   */
  #restartWithRoom(frameStart: number, window: Uint8Array, used: number): void {
    const announced = window.length - used >= FRAME_HEADER_BYTES ? readU32LittleEndian(window, used + 4) + FRAME_OVERHEAD_BYTES : FRAME_HEADER_BYTES;
    this.#carry = Math.max(this.#carry * 2, announced);
    // New buffers: the chunk handed out with this call keeps the old ones until the next.
    this.#slots = [this.#newSlot(), this.#newSlot()];
    this.#current = 0;
    this.#readPosition = frameStart;
  }

  #newSlot(): Slot {
    return { buffer: new Uint8Array(this.#carry + this.#chunkBytes), ends: new Uint32Array(framesEndsCapacity(this.#carry + this.#chunkBytes)), reading: null, position: 0, tail: 0 };
  }
}
