import { FRAME_SCAN_STOP, decodeScan, scanFrames } from '@keel/native';
import { KeelError } from './errors.js';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, readU32LittleEndian, type FrameFormat, type TailState } from './frame.js';
import { PLACED_READ_BYTES_MIN, allocReadMemory, placedIndex } from './read-placement.js';

/** Where frames are read from: an IoFile satisfies this. */
export interface FrameSource {
  readSync(into: Uint8Array, position: number): number;
  sizeSync(): number;
}

export interface ScannedFrame {
  /** File offset of the frame's first byte. */
  offset: number;
  /** File offset just past the frame (the fsys LSN of this record). */
  end: number;
  /** A view into the scanner's buffer: valid only until the next call to `next()`. */
  payload: Uint8Array;
}

/** Read size of the scanner; large enough that a scan costs few syscalls. */
export const SCAN_CHUNK_BYTES_DEFAULT = 1 << 20;

export interface FrameScannerOptions {
  /** First byte to scan (default 0). */
  from?: number;
  /** Scan only up to this offset (default: the file size when the scanner starts). */
  to?: number;
  chunkBytes?: number;
}

/** How `scanFrames` stop codes map to tail states (codes are @keel/native's). */
const STOP_STATES: Record<number, TailState> = {
  [FRAME_SCAN_STOP.badMagic]: 'bad-magic',
  [FRAME_SCAN_STOP.lengthOverflow]: 'length-overflow',
  [FRAME_SCAN_STOP.checksumMismatch]: 'checksum-mismatch',
};

/**
 * Walks whole, checksum-valid frames from `from` and stops at the first position that
 * does not hold one, recording why in `tailState`. Each chunk is validated by one native
 * call (magic, bounded length, CRC-32C for every frame in it), so the per-record cost in
 * JavaScript is a subarray. It never allocates more than one chunk, grown only for a
 * frame whose length the native check has already compared with the format's bound.
 */
export class FrameScanner {
  readonly #source: FrameSource;
  readonly #format: FrameFormat;
  readonly #end: number;
  /** Room for one chunk, and for large chunks a page of slack to place each read in (see read-placement). */
  #memory: Uint8Array;
  #chunkBytes: number;
  /** The bytes of the last read: a view of #memory. */
  #buffer: Uint8Array;
  #ends: Uint32Array;
  /** File offset of #buffer[0], and how many bytes of #buffer hold file data. */
  #bufferStart: number;
  #bufferFilled = 0;
  /** Frames validated in the current window: ends relative to #windowStart. */
  #windowStart = 0;
  #validated = 0;
  #next = 0;
  #position: number;
  #state: TailState | null = null;
  #frames = 0;
  #lastFrameOffset: number | null = null;

  constructor(source: FrameSource, format: FrameFormat, options: FrameScannerOptions = {}) {
    this.#source = source;
    this.#format = format;
    this.#position = options.from ?? 0;
    this.#end = options.to ?? source.sizeSync();
    // Small files (most in tests, many in multi-file stores) get a buffer their size, not a chunk.
    const chunkBytes = Math.min(options.chunkBytes ?? SCAN_CHUNK_BYTES_DEFAULT, this.#end - this.#position);
    this.#chunkBytes = Math.max(chunkBytes, FRAME_OVERHEAD_BYTES);
    this.#memory = readMemory(this.#chunkBytes);
    this.#buffer = this.#memory.subarray(0, 0);
    this.#ends = new Uint32Array(endsCapacity(this.#chunkBytes));
    this.#bufferStart = this.#position;
  }

  /** Offset just past the last valid frame returned so far. */
  get validBytes(): number {
    return this.#position;
  }

  get frames(): number {
    return this.#frames;
  }

  /** File offset of the first byte of the last valid frame returned or passed so far; null before the first. */
  get lastFrameOffset(): number | null {
    return this.#lastFrameOffset;
  }

  get end(): number {
    return this.#end;
  }

  /** Why scanning stopped; null while frames may remain. */
  get tailState(): TailState | null {
    return this.#state;
  }

  next(): ScannedFrame | null {
    if (this.#next >= this.#validated && !this.#validateMore()) return null;
    const offset = this.#position;
    const end = this.#windowStart + this.#ends[this.#next++]!;
    const base = this.#bufferStart;
    const payload = this.#buffer.subarray(offset - base + FRAME_HEADER_BYTES, end - base - FRAME_TRAILER_BYTES);
    this.#position = end;
    this.#frames++;
    this.#lastFrameOffset = offset;
    return { offset, end, payload };
  }

  /**
   * Walks every remaining valid frame without handing any out, one native call per chunk
   * and no per-frame objects: what open needs when it only wants the valid end.
   * Returns the number of frames passed.
   */
  skipToEnd(): number {
    const before = this.#frames;
    for (;;) {
      if (this.#next >= this.#validated && !this.#validateMore()) break;
      this.#frames += this.#validated - this.#next;
      // The window's last frame starts where the one before it ends (or at the window's start).
      this.#lastFrameOffset = this.#validated >= 2 ? this.#windowStart + this.#ends[this.#validated - 2]! : this.#windowStart;
      this.#position = this.#windowStart + this.#ends[this.#validated - 1]!;
      this.#next = this.#validated;
    }
    return this.#frames - before;
  }

  *[Symbol.iterator](): Iterator<ScannedFrame> {
    for (let frame = this.next(); frame !== null; frame = this.next()) yield frame;
  }

  /** Reads and validates the next chunk from the current position; false when scanning is over. */
  #validateMore(): boolean {
    while (this.#state === null) {
      if (this.#position >= this.#end) {
        this.#state = 'clean-end';
        return false;
      }
      const reachesEnd = this.#refill(this.#chunkBytes);
      const window = this.#buffer.subarray(0, this.#bufferFilled);
      const { count, stop } = decodeScan(scanFrames(window, this.#format.magic, this.#format.payloadBytesMax, this.#ends));
      if (count > 0) {
        this.#windowStart = this.#position;
        this.#validated = count;
        this.#next = 0;
        return true;
      }
      if (stop === FRAME_SCAN_STOP.partialHeader || stop === FRAME_SCAN_STOP.partialPayload) {
        if (reachesEnd) {
          this.#state = stop === FRAME_SCAN_STOP.partialHeader ? 'truncated-header' : 'truncated-payload';
          return false;
        }
        // A frame larger than the chunk: its length is already bounded, so grow to fit it.
        this.#grow(readU32LittleEndian(window, 4) + FRAME_OVERHEAD_BYTES);
        continue;
      }
      this.#state = tailStateOf(stop);
      return false;
    }
    return false;
  }

  /** Fills the buffer from the current position; returns whether it reaches the scan end. */
  #refill(bytes: number): boolean {
    const want = Math.min(bytes, this.#end - this.#position);
    const start = this.#memory.length > this.#chunkBytes ? placedIndex(this.#memory, 0, this.#position) : 0;
    this.#buffer = this.#memory.subarray(start, start + want);
    this.#bufferStart = this.#position;
    this.#bufferFilled = this.#source.readSync(this.#buffer, this.#position);
    return this.#bufferFilled < want || this.#position + this.#bufferFilled >= this.#end;
  }

  #grow(bytes: number): void {
    if (bytes <= this.#chunkBytes) {
      throw new KeelError('KEEL_CORRUPT', `frame scan made no progress at offset ${this.#position}`, { offset: this.#position });
    }
    this.#chunkBytes = bytes;
    this.#memory = readMemory(bytes);
    this.#ends = new Uint32Array(endsCapacity(bytes));
  }
}

/** Memory for chunks of `chunkBytes`: small ones plain, large ones with room to place each read. */
function readMemory(chunkBytes: number): Uint8Array {
  return chunkBytes < PLACED_READ_BYTES_MIN ? new Uint8Array(chunkBytes) : allocReadMemory(chunkBytes);
}

/** Why `validateFrameRun` stopped: the chunk ended on a frame boundary or inside a frame, or damage. */
export type FrameRunStop = 'end' | 'partial' | 'bad-magic' | 'length-overflow' | 'checksum-mismatch';

/**
 * Validates every whole frame at the start of `chunk` with one native call (magic,
 * length against the format's bound, CRC-32C) and writes each frame's end, relative to
 * the chunk, into `ends` (which needs `framesEndsCapacity(chunk.length)` slots). For
 * readers that keep their own buffers; FrameScanner is built on the same call.
 */
export function validateFrameRun(chunk: Uint8Array, format: FrameFormat, ends: Uint32Array): { count: number; stop: FrameRunStop } {
  if (ends.length < endsCapacity(chunk.length)) throw new KeelError('KEEL_BAD_ARGUMENT', `ends needs ${endsCapacity(chunk.length)} slots for a chunk of ${chunk.length} bytes`);
  const { count, stop } = decodeScan(scanFrames(chunk, format.magic, format.payloadBytesMax, ends));
  if (stop === FRAME_SCAN_STOP.end) return { count, stop: 'end' };
  if (stop === FRAME_SCAN_STOP.partialHeader || stop === FRAME_SCAN_STOP.partialPayload) return { count, stop: 'partial' };
  return { count, stop: tailStateOf(stop) as FrameRunStop };
}

/** The tail state a damage stop code of `scanFrames` stands for. */
export function tailStateOf(stop: number): TailState {
  return STOP_STATES[stop] ?? 'bad-magic';
}

/** Slots `validateFrameRun` needs for a chunk of this size. */
export function framesEndsCapacity(chunkBytes: number): number {
  return endsCapacity(chunkBytes);
}

/** Enough end slots that a chunk of this size can never fill them (the smallest frame is 12 bytes). */
function endsCapacity(chunkBytes: number): number {
  return Math.floor(chunkBytes / FRAME_OVERHEAD_BYTES) + 1;
}
