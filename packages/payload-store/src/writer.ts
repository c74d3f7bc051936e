import { KeelError, joinPath, type Io, type IoFile } from '@keel/core';
import {
  MAPPED_SEGMENT_BYTES_MAX,
  SEGMENT_HEADER_BYTES,
  SEGMENT_NUMBER_MAX,
  encodeSegmentHeader,
  followingFileName,
  type SegmentIdentity,
  payloadFrameBytes,
  segmentFileName,
} from './format.js';
import { encodeBoundFramesInto } from './frame-binding.js';
import type { PayloadRef } from './payload-ref.js';
import type { SegmentState } from './segment.js';

/** The segment a rotation sealed, and where: what the new segment's temporary name records. */
export interface Predecessor {
  readonly segment: number;
  readonly sealedEnd: number;
}

/**
 * Creates an append segment holding only its header, without syncing anything. A
 * rotation's segment is created under its following name (see `followingFileName`) and
 * keeps it until a flush has made the segment it follows durable. Its header names the
 * store and the predecessor with the end it was sealed at, so that end stays bound after
 * the rename; open's new segment names the newest append segment it found, if any.
 */
export function createSegmentFile(io: Io, dir: string, segment: number, storeId: Uint8Array, predecessor: Predecessor | null, name: 'following' | 'segment'): SegmentState {
  const fileName = name === 'following' && predecessor !== null ? followingFileName(segment, predecessor.segment, predecessor.sealedEnd) : segmentFileName(segment);
  const path = joinPath(dir, fileName);
  const file = io.open(path, { createNew: true, write: true });
  try {
    file.writeSync(encodeSegmentHeader(appendIdentity(segment, predecessor, storeId)), 0);
  } catch (error) {
    file.closeSync();
    throw error;
  }
  return { segment, kind: 'append', order: segment, path, end: SEGMENT_HEADER_BYTES, sealed: false, file, durableEnd: 0, syncing: 0, view: null };
}

/** The header of append segment `segment` created after `predecessor` was sealed. */
export function appendIdentity(segment: number, predecessor: Predecessor | null, storeId: Uint8Array): SegmentIdentity {
  return { segment, kind: 'append', order: segment, storeId, predecessor: predecessor?.segment ?? 0, boundEnd: predecessor?.sealedEnd ?? 0 };
}

/**
 * The frames of one append up to this size are encoded into one buffer the writer keeps
 * (the write is synchronous, so it is free again at once): no allocation, zero-fill or
 * page faults per batch. A larger append gets a buffer of its own.
 */
export const FRAME_SCRATCH_BYTES_MAX = 4 * 1024 * 1024;

/** A rotation's new segment still under its following name, and the segment it follows. */
interface PendingRotation {
  readonly state: SegmentState;
  readonly predecessor: SegmentState;
  readonly sealedEnd: number;
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
  readonly #storeId: Uint8Array;
  #active: SegmentState;
  #nextSegment: number;
  /** A segment file was created since the last directory sync. */
  #directoryDirty = false;
  /** Rotations whose new segment has not got its segment name yet, oldest first. */
  readonly #rotations: PendingRotation[] = [];
  /** Bytes written in this session (frames and new segment headers): the group commit's position. */
  #writtenBytes = 0;
  /** Told after each rotation: the store asks its group commit for the flush that makes it durable. */
  onRotate: (() => void) | null = null;
  #scratch = new Uint8Array(0);

  constructor(io: Io, dir: string, segments: Map<number, SegmentState>, active: SegmentState, nextSegment: number, segmentBytes: number, storeId: Uint8Array) {
    this.#io = io;
    this.#storeId = storeId;
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
        end += payloadFrameBytes(payload.length);
        index++;
      } while (index < payloads.length && !this.#mustRotate(end, payloads[index] as Uint8Array));
      const frames = this.#frameBuffer(end - active.end);
      encodeBoundFramesInto(frames, start === 0 && index === payloads.length ? payloads : payloads.slice(start, index), active.segment, active.end);
      (active.file as NonNullable<SegmentState['file']>).writeSync(frames, active.end);
      this.#writtenBytes += end - active.end;
      active.end = end;
    }
    return refs;
  }

  /** A buffer of exactly `bytes` for one append's frames: the kept one while it is small enough. */
  #frameBuffer(bytes: number): Uint8Array {
    if (bytes > FRAME_SCRATCH_BYTES_MAX) return new Uint8Array(bytes);
    if (this.#scratch.length < bytes) this.#scratch = new Uint8Array(Math.min(FRAME_SCRATCH_BYTES_MAX, Math.max(bytes, this.#scratch.length * 2)));
    return this.#scratch.subarray(0, bytes);
  }

  /**
   * A segment takes a frame while it stays within segmentBytes, and always takes its
   * first. Past that it rotates — but not while a sync of it is in flight: that sync may
   * already have failed and the kernel dropped its pages without our knowing, so a
   * datasync now would "succeed" with nothing to write and payloads would go on in the
   * next segment behind a hole. The segment grows a little instead, up to a hard limit.
   */
  #mustRotate(end: number, payload: Uint8Array): boolean {
    const after = end + payloadFrameBytes(payload.length);
    if (end === SEGMENT_HEADER_BYTES || after <= this.#segmentBytes) return false;
    return this.#active.syncing === 0 || after > MAPPED_SEGMENT_BYTES_MAX;
  }

  /**
   * Seals the active segment and starts a new one; returns the sealed segment's number.
   * Nothing is synced here (a rotation runs inside an append): the new segment is created
   * under its following name, and the next flush makes the sealed segment durable, then
   * gives the new one its segment name, before it claims any payload there durable. Open
   * trusts a sealed segment with a successor under its segment name; a following name
   * tells it where the segment before it must end.
   */
  rotate(): number {
    const sealed = this.#active;
    const next = createSegmentFile(this.#io, this.#dir, this.allocateSegment(), this.#storeId, { segment: sealed.segment, sealedEnd: sealed.end }, 'following');
    this.#segments.set(next.segment, next);
    this.#rotations.push({ state: next, predecessor: sealed, sealedEnd: sealed.end });
    this.#directoryDirty = true;
    // The new header is written but not durable: count it, so that a flush is due.
    this.#writtenBytes += SEGMENT_HEADER_BYTES;
    sealed.sealed = true;
    closeIfSettled(sealed);
    this.#active = next;
    this.onRotate?.();
    return sealed.segment;
  }

  /**
   * Makes every byte written before the call durable, off the event loop: each file with
   * bytes not yet known durable, then the directory when a segment was created, then the
   * segment names of rotations whose predecessor is now durable and the directory again.
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
    // Every segment a rotation created is in the directory for good before a segment name
    // says that all those before it are.
    if (flush.directory || flush.rotations.length > 0) await this.#io.syncDir(this.#dir);
    if (this.#nameRotations(flush.rotations)) await this.#io.syncDir(this.#dir);
    for (const { state } of flush.targets) closeIfSettled(state);
  }

  /** `flush` on the calling thread: the same files, names and directory, one after another. */
  flushSync(): void {
    const flush = this.#beginFlush();
    for (const { state } of flush.targets) (state.file as NonNullable<SegmentState['file']>).datasyncSync();
    this.#markDurable(flush.targets);
    if (flush.directory || flush.rotations.length > 0) this.#io.syncDirSync(this.#dir);
    if (this.#nameRotations(flush.rotations)) this.#io.syncDirSync(this.#dir);
    for (const { state } of flush.targets) closeIfSettled(state);
  }

  /** What a flush starting now covers: every file's end as written now, the rotations so far, and the directory if dirty. */
  #beginFlush(): { targets: Array<{ state: SegmentState; through: number }>; rotations: PendingRotation[]; directory: boolean } {
    const targets: Array<{ state: SegmentState; through: number }> = [];
    for (const state of this.#segments.values()) {
      if (state.durableEnd < state.end && state.file !== null) targets.push({ state, through: state.end });
    }
    const directory = this.#directoryDirty;
    this.#directoryDirty = false;
    return { targets, rotations: [...this.#rotations], directory };
  }

  #markDurable(targets: ReadonlyArray<{ state: SegmentState; through: number }>): void {
    for (const { state, through } of targets) state.durableEnd = Math.max(state.durableEnd, through);
  }

  /**
   * Renames, oldest first, each rotation's segment whose predecessor is durable through
   * the end it was sealed at and already has its segment name: a segment name on disk
   * then says every append segment before it is whole and durable. Returns whether any was
   * renamed (the directory must be synced before the flush claims their payloads).
   */
  #nameRotations(rotations: readonly PendingRotation[]): boolean {
    let renamed = false;
    for (const rotation of rotations) {
      const position = this.#rotations.indexOf(rotation);
      // A concurrent syncSync may have named it already; one before it not yet named stops the rest.
      if (position < 0) continue;
      if (position > 0 || rotation.predecessor.durableEnd < rotation.sealedEnd) break;
      const path = joinPath(this.#dir, segmentFileName(rotation.state.segment));
      this.#io.rename(rotation.state.path, path);
      rotation.state.path = path;
      this.#rotations.shift();
      renamed = true;
    }
    return renamed;
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
