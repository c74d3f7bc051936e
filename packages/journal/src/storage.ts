import { DIRECT_IO_ALIGNMENT_BYTES, allocAlignedBuffer } from '@keel/core';

/**
 * Growable byte storage for the log buffer. Plain storage is a Uint8Array; aligned
 * storage comes from core's aligned allocator, because O_DIRECT needs 4096-aligned
 * source buffers and Node cannot allocate aligned memory on its own.
 */
export interface ByteStorage {
  readonly bytes: Uint8Array;
  /** Makes `bytes.length >= minimumBytes`, keeping the first `keepBytes` bytes. */
  grow(minimumBytes: number, keepBytes: number): void;
  /** Replaces the storage with a smaller one of about `bytes`, keeping the first `keepBytes` bytes. */
  shrink(bytes: number, keepBytes: number): void;
}

export class PlainStorage implements ByteStorage {
  bytes: Uint8Array;

  constructor(initialBytes: number) {
    this.bytes = new Uint8Array(initialBytes);
  }

  grow(minimumBytes: number, keepBytes: number): void {
    if (minimumBytes <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(minimumBytes, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, keepBytes));
    this.bytes = grown;
  }

  shrink(bytes: number, keepBytes: number): void {
    const smaller = new Uint8Array(Math.max(bytes, keepBytes));
    smaller.set(this.bytes.subarray(0, keepBytes));
    this.bytes = smaller;
  }
}

export class AlignedStorage implements ByteStorage {
  bytes: Uint8Array;

  constructor(initialBytes: number) {
    this.bytes = allocAlignedBuffer(roundUp(Math.max(1, initialBytes)));
  }

  grow(minimumBytes: number, keepBytes: number): void {
    if (minimumBytes <= this.bytes.length) return;
    const grown = allocAlignedBuffer(roundUp(Math.max(minimumBytes, this.bytes.length * 2)));
    grown.set(this.bytes.subarray(0, keepBytes));
    this.bytes = grown;
  }

  shrink(bytes: number, keepBytes: number): void {
    const smaller = allocAlignedBuffer(roundUp(Math.max(bytes, keepBytes, 1)));
    smaller.set(this.bytes.subarray(0, keepBytes));
    this.bytes = smaller;
  }
}

/** Whole alignment blocks, so a direct write of the buffer's tail block never runs past it. */
function roundUp(bytes: number): number {
  return Math.ceil(bytes / DIRECT_IO_ALIGNMENT_BYTES) * DIRECT_IO_ALIGNMENT_BYTES;
}
