import { KeelError, encodeFrames, frameBytes, joinPath, type Io, type IoFile } from '@keel/core';
import { MAPPED_SEGMENT_BYTES_MAX, PAYLOAD_FRAME_FORMAT, SEGMENT_HEADER_BYTES, SEGMENT_NUMBER_MAX, encodeSegmentHeader, segmentFileName } from './format.js';
import type { PayloadRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';

/**
 * Creates an append segment holding only its header. With `durable`, the header and the
 * directory entry are synced before any payload goes in, so a segment that exists after
 * a crash starts with a whole header or is a torn creation that held nothing.
 */
export function createSegmentFile(io: Io, dir: string, segment: number, durable: boolean): SegmentState {
  const path = joinPath(dir, segmentFileName(segment));
  const file = io.open(path, { createNew: true, write: true });
  try {
    file.writeSync(encodeSegmentHeader({ segment, kind: 'append', order: segment }), 0);
    if (durable) {
      file.datasyncSync();
      io.syncDirSync(dir);
    }
  } catch (error) {
    file.closeSync();
    throw error;
  }
  return { segment, kind: 'append', order: segment, path, end: SEGMENT_HEADER_BYTES, sealed: false, file, durableEnd: durable ? SEGMENT_HEADER_BYTES : 0, syncing: 0, view: null };
}

/**
 * Owns the active segment: appends frames to it, rotates it by size, and knows which
 * files hold unsynced bytes so that one flush covers every one of them.
 */
export class SegmentWriter {
  readonly #io: Io;
  readonly #dir: string;
  readonly #segments: Map<number, SegmentState>;
  readonly #segmentBytes: number;
  /** Whether a rotation syncs (every durability mode except 'none'). */
  readonly #durableRotation: boolean;
  #active: SegmentState;
  #nextSegment: number;
  /** A segment file was created since the last directory sync. */
  #directoryDirty = false;
  /** Bytes written in this session (frames and new segment headers): the group commit's position. */
  #writtenBytes = 0;

  constructor(io: Io, dir: string, segments: Map<number, SegmentState>, active: SegmentState, nextSegment: number, segmentBytes: number, durableRotation: boolean) {
    this.#io = io;
    this.#durableRotation = durableRotation;
    this.#dir = dir;
    this.#segments = segments;
    this.#active = active;
    this.#nextSegment = nextSegment;
    this.#segmentBytes = segmentBytes;
  }

  get active(): SegmentState {
    return this.#active;
  }

  get writtenBytes(): number {
    return this.#writtenBytes;
  }

  /** Hands out a segment number no file in the directory has used. */
  allocateSegment(): number {
    const segment = this.#nextSegment;
    if (segment > SEGMENT_NUMBER_MAX) throw new KeelError('KEEL_TOO_LARGE', `segment numbers are exhausted (maximum ${SEGMENT_NUMBER_MAX})`);
    this.#nextSegment++;
    return segment;
  }

  /** Writes the payloads (already validated) as frames, one write per segment touched. */
  append(payloads: readonly Uint8Array[]): PayloadRef[] {
    const refs: PayloadRef[] = new Array(payloads.length);
    let index = 0;
    while (index < payloads.length) {
      if (this.#mustRotate(this.#active.end, payloads[index] as Uint8Array)) this.rotate();
      const active = this.#active;
      const start = index;
      let end = active.end;
      do {
        const payload = payloads[index] as Uint8Array;
        refs[index] = { segment: active.segment, offset: end, length: payload.length };
        end += frameBytes(payload.length);
        index++;
      } while (index < payloads.length && !this.#mustRotate(end, payloads[index] as Uint8Array));
      const frames = encodeFrames(start === 0 && index === payloads.length ? payloads : payloads.slice(start, index), PAYLOAD_FRAME_FORMAT);
      (active.file as NonNullable<SegmentState['file']>).writeSync(frames, active.end);
      this.#writtenBytes += end - active.end;
      active.end = end;
    }
    return refs;
  }

  /**
   * A segment takes a frame while it stays within segmentBytes, and always takes its
   * first. Past that it rotates — but not while a sync of it is in flight: that sync may
   * already have failed and the kernel dropped its pages without our knowing, so a
   * datasync now would "succeed" with nothing to write and payloads would go on in the
   * next segment behind a hole. The segment grows a little instead, up to a hard limit.
   */
  #mustRotate(end: number, payload: Uint8Array): boolean {
    const after = end + frameBytes(payload.length);
    if (end === SEGMENT_HEADER_BYTES || after <= this.#segmentBytes) return false;
    return this.#active.syncing === 0 || after > MAPPED_SEGMENT_BYTES_MAX;
  }

  /**
   * Seals the active segment and starts a new one; returns the sealed segment's number.
   * The sealed segment is made durable first (unless a sync of it is already in flight),
   * so a sealed segment is whole and no payload of a newer segment can survive a crash
   * that an older one did not. Rolls are rare (one per segmentBytes), so this runs
   * synchronously inside the append.
   */
  rotate(): number {
    const sealed = this.#active;
    if (this.#durableRotation && sealed.durableEnd < sealed.end && sealed.syncing === 0) {
      (sealed.file as NonNullable<SegmentState['file']>).datasyncSync();
      sealed.durableEnd = sealed.end;
    }
    // With a sync in flight (an explicit seal() while a flush runs), that flush or the next
    // covers the sealed bytes; if it fails, the store is poisoned before anything more is acknowledged.
    const next = createSegmentFile(this.#io, this.#dir, this.allocateSegment(), this.#durableRotation);
    this.#segments.set(next.segment, next);
    if (!this.#durableRotation) {
      // The new header is written but not durable: count it, so that the next sync flushes it.
      this.#directoryDirty = true;
      this.#writtenBytes += SEGMENT_HEADER_BYTES;
    }
    sealed.sealed = true;
    closeIfSettled(sealed);
    this.#active = next;
    return sealed.segment;
  }

  /**
   * Makes every byte written before the call durable: each file with bytes not yet
   * known durable, then the directory when a segment was created since its last sync.
   * A segment's bytes count as durable only once its own sync has completed.
   */
  async flush(): Promise<void> {
    const flush = this.#beginFlush();
    for (const { state } of flush.targets) state.syncing++;
    try {
      await Promise.all(flush.targets.map(({ state }) => (state.file as NonNullable<SegmentState['file']>).datasync()));
    } finally {
      for (const { state } of flush.targets) state.syncing--;
    }
    this.#markDurable(flush.targets);
    if (flush.directory) await this.#io.syncDir(this.#dir);
    for (const { state } of flush.targets) closeIfSettled(state);
  }

  /** `flush` on the calling thread: the same files and directory, one after another. */
  flushSync(): void {
    const flush = this.#beginFlush();
    for (const { state } of flush.targets) (state.file as NonNullable<SegmentState['file']>).datasyncSync();
    this.#markDurable(flush.targets);
    if (flush.directory) this.#io.syncDirSync(this.#dir);
    for (const { state } of flush.targets) closeIfSettled(state);
  }

  /** What a flush starting now covers: every file's end as written now, and the directory if dirty. */
  #beginFlush(): { targets: Array<{ state: SegmentState; through: number }>; directory: boolean } {
    const targets: Array<{ state: SegmentState; through: number }> = [];
    for (const state of this.#segments.values()) {
      if (state.durableEnd < state.end && state.file !== null) targets.push({ state, through: state.end });
    }
    const directory = this.#directoryDirty;
    this.#directoryDirty = false;
    return { targets, directory };
  }

  #markDurable(targets: ReadonlyArray<{ state: SegmentState; through: number }>): void {
    for (const { state, through } of targets) state.durableEnd = Math.max(state.durableEnd, through);
  }

  closeAll(): void {
    for (const state of this.#segments.values()) closeFile(state);
  }
}

/** A sealed segment's writer closes once every byte is durable and no sync still uses it. */
function closeIfSettled(state: SegmentState): void {
  if (state.sealed && state.durableEnd >= state.end && state.syncing === 0) closeFile(state);
}

export function closeFile(state: SegmentState): void {
  const file = state.file;
  if (file === null) return;
  state.file = null;
  try {
    file.closeSync();
  } catch {
    // Closing a handle that already failed must not hide the error that failed it.
  }
}

export function closeQuietly(file: IoFile): void {
  try {
    file.closeSync();
  } catch {
    // A close error after a failed write must not replace that error.
  }
}
