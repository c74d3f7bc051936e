import {
  FRAME_HEADER_BYTES,
  FRAME_OVERHEAD_BYTES,
  FrameScanner,
  KeelError,
  SCAN_CHUNK_BYTES_DEFAULT,
  allocReadMemory,
  placedBytes,
  placedView,
  throwIfAborted,
  type FrameSource,
  type IoFile,
} from '@keel/core';
import { JOURNAL_FRAME_FORMAT } from './format.js';
import { PayloadArena } from './payload-arena.js';
import type { JournalRecord } from './records.js';

export interface StreamSource {
  file: IoFile;
  /** The end of what may be read now. */
  refreshEnd(): number;
  /** Bytes below this are in the file; bytes above it only in the log buffer. */
  handedThrough(): number;
  /** Copies bytes at or above `handedThrough()` from the log buffer. */
  readPending(into: Uint8Array, position: number): number;
  signal: AbortSignal | undefined;
  /**
   * `follow`: once caught up, wait for more instead of ending. Resolves true when there
   * may be more (or the signal fired), false when the stream should end (closed).
   */
  waitForMore?(): Promise<boolean>;
  /**
   * The bytes are another process's live file: a frame that does not check at the very
   * end may be a write still landing, so a follower waits for it instead of calling it damage.
   */
  liveTail?: boolean;
  /** Called once when the stream ends, however it ends. */
  onEnd?(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * Reads records with asynchronous reads (off the event loop), a chunk at a time, and
 * validates each chunk with core's FrameScanner; records not yet handed to the OS are
 * read from the log buffer. Records of a chunk already read are
 * handed out without awaiting anything (a hand-written iterator: an async generator
 * costs more than the scan). The end is refreshed whenever the stream catches up with
 * it, so records appended while it runs are seen; it ends once it has caught up.
 */
export class RecordStream implements AsyncIterableIterator<JournalRecord> {
  readonly #source: StreamSource;
  readonly #from: number;
  readonly #arena = new PayloadArena();
  #position: number;
  #end: number;
  /** Memory the chunks are read into, each placed for its position (see @keel/core's read-placement). */
  #memory: Uint8Array = new Uint8Array(0);
  #chunk: Uint8Array = new Uint8Array(0);
  #chunkStart = 0;
  #scanner: FrameScanner | null = null;
  /** Bytes the next read must cover: a whole frame that did not fit the last chunk. */
  #needed = FRAME_HEADER_BYTES;
  #pending: Promise<IteratorResult<JournalRecord>> | null = null;
  #done = false;
  /** A live tail stopped here at a frame not yet whole: read again only once the file grows past it. */
  #stalledEnd: number | null = null;

  constructor(source: StreamSource, from: number) {
    this.#source = source;
    this.#from = from;
    this.#position = from;
    this.#end = from;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<JournalRecord>> {
    // Calls made without awaiting the previous one are served in order.
    if (this.#pending) return this.#pending.then(() => this.next());
    if (this.#done) return Promise.resolve(DONE);
    try {
      throwIfAborted(this.#source.signal);
      const record = this.#nextInChunk();
      if (record !== null) return Promise.resolve({ value: record, done: false });
    } catch (error) {
      this.#finish();
      return Promise.reject(error);
    }
    const pending = this.#readChunk().then(
      async (more) => {
        this.#pending = null;
        if (more) return this.next();
        const wait = this.#source.waitForMore;
        if (wait === undefined) return this.#finish();
        // Appends made since the read found nothing would never wake the wait: look first.
        if (this.#grown() || (await wait.call(this.#source))) return this.next();
        return this.#finish();
      },
      (error: unknown) => {
        this.#pending = null;
        this.#finish();
        throw error;
      },
    );
    this.#pending = pending;
    return pending;
  }

  return(): Promise<IteratorResult<JournalRecord>> {
    return Promise.resolve(this.#finish());
  }

  #finish(): IteratorReturnResult<undefined> {
    if (!this.#done) this.#source.onEnd?.();
    this.#done = true;
    this.#scanner = null;
    return DONE;
  }

  /** Whether the source now reaches past what this stream has read (or stalled at). */
  #grown(): boolean {
    try {
      return this.#source.refreshEnd() > (this.#stalledEnd ?? this.#position);
    } catch {
      // Closed meanwhile: the wait says so.
      return false;
    }
  }

  /** The next record of the chunk in hand, or null when the chunk is used up. */
  #nextInChunk(): JournalRecord | null {
    const scanner = this.#scanner;
    if (scanner === null) return null;
    const frame = scanner.next();
    if (frame !== null) {
      this.#position = frame.end;
      return { lsn: frame.end, payload: this.#arena.copy(frame.payload) };
    }
    this.#scanner = null;
    const state = scanner.tailState ?? 'clean-end';
    if (state === 'clean-end') return null;
    const chunkEnd = scanner.end;
    if (this.#source.liveTail === true && this.#source.waitForMore !== undefined && chunkEnd >= this.#end) {
      // The end of another process's file: wait for the rest of the frame, then read it again.
      this.#stalledEnd = chunkEnd;
      this.#end = this.#position;
      return null;
    }
    if ((state === 'truncated-header' || state === 'truncated-payload') && chunkEnd < this.#end) {
      // A frame runs past the chunk: read again from its start, the whole frame at once.
      const progressed = this.#position > this.#chunkStart;
      this.#needed = state === 'truncated-payload' ? this.#announcedFrameBytes() : FRAME_HEADER_BYTES;
      if (progressed || this.#chunk.length < this.#needed) return null;
    }
    throw damaged(this.#source.file.path, this.#position, this.#position === this.#from && this.#from > 0, state);
  }

  /** Reads the next chunk; false when the stream has caught up with the end. */
  async #readChunk(): Promise<boolean> {
    if (this.#position >= this.#end) {
      const end = this.#source.refreshEnd();
      if (this.#stalledEnd !== null && end <= this.#stalledEnd) return false;
      this.#stalledEnd = null;
      this.#end = end;
    }
    if (this.#position >= this.#end) return false;
    const size = Math.max(SCAN_CHUNK_BYTES_DEFAULT, this.#needed);
    if (this.#memory.length < placedBytes(size)) this.#memory = allocReadMemory(size);
    this.#chunk = placedView(this.#memory, this.#position, size);
    const filled = await this.#fill();
    throwIfAborted(this.#source.signal);
    this.#chunkStart = this.#position;
    this.#needed = FRAME_HEADER_BYTES;
    this.#scanner = new FrameScanner(chunkSource(this.#chunk, this.#chunkStart, filled), JOURNAL_FRAME_FORMAT, {
      from: this.#position,
      to: this.#chunkStart + filled,
      chunkBytes: Math.max(filled, FRAME_OVERHEAD_BYTES),
    });
    return true;
  }

  /**
   * Reads file bytes asynchronously up to the hand-off point (a frame boundary), and
   * copies bytes past it from the log buffer: reading never writes.
   */
  async #fill(): Promise<number> {
    const handed = this.#source.handedThrough();
    const want = Math.min(this.#chunk.length, this.#end - this.#position);
    if (this.#position >= handed) return this.#source.readPending(this.#chunk.subarray(0, want), this.#position);
    return this.#source.file.read(this.#chunk.subarray(0, Math.min(want, handed - this.#position)), this.#position);
  }

  /** The size of the frame at the current position; its length was bounded by the scanner. */
  #announcedFrameBytes(): number {
    const offset = this.#position - this.#chunkStart;
    return new DataView(this.#chunk.buffer, this.#chunk.byteOffset).getUint32(offset + 4, true) + FRAME_OVERHEAD_BYTES;
  }
}

/** The bytes of one chunk, at their file offsets, as a FrameScanner source. */
function chunkSource(chunk: Uint8Array, start: number, filled: number): FrameSource {
  return {
    sizeSync: () => start + filled,
    readSync(into: Uint8Array, position: number): number {
      const from = position - start;
      const bytes = Math.max(0, Math.min(into.length, filled - from));
      into.set(chunk.subarray(from, from + bytes));
      return bytes;
    },
  };
}

function damaged(path: string, offset: number, atFrom: boolean, state: string): KeelError {
  if (atFrom) return new KeelError('KEEL_BAD_ARGUMENT', `from ${offset} is not the LSN of a record in ${path}`, { path, offset });
  return new KeelError('KEEL_CORRUPT', `${path} is damaged at offset ${offset} (${state})`, { path, offset });
}
