import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkFrameAt, type FrameFormat, type TailState } from './frame.js';

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

/**
 * Walks whole, checksum-valid frames from `from` and stops at the first position that
 * does not hold one, recording why in `tailState`. It never allocates more than one
 * chunk, grown only for a frame whose length has already been checked against the
 * format's bound.
 */
export class FrameScanner {
  readonly #source: FrameSource;
  readonly #format: FrameFormat;
  readonly #end: number;
  #buffer: Uint8Array;
  /** File offset of #buffer[0], and how many bytes of #buffer hold file data. */
  #bufferStart = 0;
  #bufferFilled = 0;
  #position: number;
  #state: TailState | null = null;
  #frames = 0;

  constructor(source: FrameSource, format: FrameFormat, options: FrameScannerOptions = {}) {
    this.#source = source;
    this.#format = format;
    this.#position = options.from ?? 0;
    this.#end = options.to ?? source.sizeSync();
    this.#buffer = new Uint8Array(Math.max(options.chunkBytes ?? SCAN_CHUNK_BYTES_DEFAULT, FRAME_OVERHEAD_BYTES));
    this.#bufferStart = this.#position;
  }

  /** Offset just past the last valid frame returned so far. */
  get validBytes(): number {
    return this.#position;
  }

  get frames(): number {
    return this.#frames;
  }

  get end(): number {
    return this.#end;
  }

  /** Why scanning stopped; null while frames may remain. */
  get tailState(): TailState | null {
    return this.#state;
  }

  next(): ScannedFrame | null {
    if (this.#state !== null) return null;
    if (this.#position >= this.#end) {
      this.#state = 'clean-end';
      return null;
    }
    this.#ensure(FRAME_HEADER_BYTES);
    let window = this.#window();
    let check = checkFrameAt(window, 0, this.#format);
    if (!check.ok && check.state === 'truncated-payload' && this.#windowReachesEnd() === false) {
      // The header is bounded and valid; read the whole frame before judging it.
      const announced = new DataView(window.buffer, window.byteOffset, window.byteLength).getUint32(4, true);
      this.#ensure(announced + FRAME_OVERHEAD_BYTES);
      window = this.#window();
      check = checkFrameAt(window, 0, this.#format);
    }
    if (!check.ok) {
      this.#state = check.state;
      return null;
    }
    const offset = this.#position;
    const payload = window.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + check.payloadLength);
    this.#position += check.frameBytes;
    this.#frames++;
    return { offset, end: this.#position, payload };
  }

  *[Symbol.iterator](): Iterator<ScannedFrame> {
    for (let frame = this.next(); frame !== null; frame = this.next()) yield frame;
  }

  /** Bytes from the current position to the end of the current buffer (capped at the scan end). */
  #window(): Uint8Array {
    const start = this.#position - this.#bufferStart;
    const limit = Math.min(this.#bufferFilled, this.#end - this.#bufferStart);
    return this.#buffer.subarray(start, Math.max(start, limit));
  }

  #windowReachesEnd(): boolean {
    return this.#bufferStart + this.#bufferFilled >= this.#end;
  }

  /** Makes at least `bytes` bytes from the current position resident, when the file has them. */
  #ensure(bytes: number): void {
    const have = this.#bufferStart + this.#bufferFilled - this.#position;
    if (have >= bytes || this.#windowReachesEnd()) return;
    if (bytes > this.#buffer.length) this.#buffer = new Uint8Array(bytes);
    const want = Math.min(this.#buffer.length, this.#end - this.#position);
    this.#bufferStart = this.#position;
    this.#bufferFilled = this.#source.readSync(this.#buffer.subarray(0, want), this.#position);
  }
}

/**
 * Looks for a whole, checksum-valid frame starting anywhere after `from`. Recovery uses it
 * to tell a torn tail (nothing valid follows) from corruption in the middle of a log
 * (valid frames follow), which must never be silently cut away. Returns its offset or null.
 */
export function findNextValidFrame(source: FrameSource, format: FrameFormat, from: number, to = source.sizeSync()): number | null {
  const first = (format.magic >>> 24) & 0xff;
  const chunk = new Uint8Array(SCAN_CHUNK_BYTES_DEFAULT);
  for (let start = from; start < to - FRAME_OVERHEAD_BYTES + 1; ) {
    const filled = source.readSync(chunk.subarray(0, Math.min(chunk.length, to - start)), start);
    const searchEnd = filled - FRAME_HEADER_BYTES + 1;
    for (let i = chunk.indexOf(first); i !== -1 && i < searchEnd; i = chunk.indexOf(first, i + 1)) {
      if (isValidFrameAt(source, format, start + i, to)) return start + i;
    }
    if (filled < chunk.length) break;
    start += Math.max(1, filled - FRAME_HEADER_BYTES);
  }
  return null;
}

function isValidFrameAt(source: FrameSource, format: FrameFormat, offset: number, to: number): boolean {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  if (source.readSync(header, offset) < FRAME_HEADER_BYTES) return false;
  const probe = checkFrameAt(header, 0, format);
  if (probe.ok || probe.state !== 'truncated-payload') return false;
  const payloadLength = new DataView(header.buffer).getUint32(4, true);
  const total = payloadLength + FRAME_OVERHEAD_BYTES;
  if (offset + total > to) return false;
  const frame = new Uint8Array(total);
  if (source.readSync(frame, offset) < total) return false;
  return checkFrameAt(frame, 0, format).ok;
}
