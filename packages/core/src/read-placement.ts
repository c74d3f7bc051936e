import { addressOffset } from '@keel/native';

/**
 * Where in memory a read lands decides how fast the kernel copies it out of the page
 * cache. On CPUs with fast `rep movsb` (the kernel's copy), a destination 1 to 31 bytes
 * past the source, counted within a page, takes the slow path: measured on AMD EPYC,
 * 1 MiB read from the page cache took 480–630 µs at those distances and 80–100 µs at
 * every other one. A plain `Uint8Array` of a megabyte sits 16 bytes into a page, so a
 * read of it at a page-aligned file position pays that sixfold copy; whether another
 * buffer does depends on where the allocator put it. A placed read copies page to page
 * whatever the position: its first byte sits as far into a page of memory as the
 * position sits into a page of the file.
 */
export const PAGE_BYTES = 4096;

/** Reads from this size on are placed; a smaller copy costs less than the page of slack and the address lookup. */
export const PLACED_READ_BYTES_MIN = 64 * 1024;

/** How far into its page the file position `position` falls. */
export function pageOffsetOf(position: number): number {
  return position % PAGE_BYTES;
}

/** How far into its page of memory the first byte of `view` sits (the address is not visible to JS; the addon reads it). */
export function pageOffsetOfView(view: Uint8Array): number {
  return addressOffset(view, PAGE_BYTES);
}

/** The bytes memory needs to place a read of `length` bytes at any position: a page of slack on top. */
export function placedBytes(length: number): number {
  return length + PAGE_BYTES - 1;
}

/**
 * Unzeroed memory of its own (a read fills what it uses) with room for a placed read of
 * `length` bytes: a page of slack on top. It comes from Node's allocator, which hands
 * back memory freed by earlier reads without new page faults.
 */
export function allocReadMemory(length: number): Uint8Array {
  const unzeroed = Buffer.allocUnsafeSlow(placedBytes(length));
  return new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, unzeroed.length);
}

/**
 * The first index of `memory` at or after `from` whose byte sits as far into a page as
 * `position` sits into a page of the file: where a read of `position` should land.
 * It is less than `from + PAGE_BYTES`.
 */
export function placedIndex(memory: Uint8Array, from: number, position: number): number {
  const skew = pageOffsetOfView(memory.subarray(from));
  return from + ((pageOffsetOf(position) - skew + PAGE_BYTES) % PAGE_BYTES);
}

/** `length` bytes of `memory` (at least `placedBytes(length)` long) placed for a read at `position`. */
export function placedView(memory: Uint8Array, position: number, length: number): Uint8Array {
  const start = placedIndex(memory, 0, position);
  return memory.subarray(start, start + length);
}

/** A buffer of its own for one read of `length` bytes at `position`, placed when the read is large. */
export function allocReadBuffer(length: number, position: number): Uint8Array {
  if (length < PLACED_READ_BYTES_MIN) {
    const unzeroed = Buffer.allocUnsafeSlow(length);
    return new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, length);
  }
  return placedView(allocReadMemory(length), position, length);
}
