import { allocAligned } from '@keel/native';

/**
 * Where in memory a read lands decides how fast the kernel copies it out of the page
 * cache. On CPUs with fast `rep movsb` (the kernel's copy), a destination 1 to 31 bytes
 * past the source, counted within a page, takes the slow path: measured on AMD EPYC,
 * 1 MiB read from the page cache took 480–630 µs at those distances and 80–100 µs at
 * every other one. A plain `Uint8Array` of a megabyte sits 16 bytes into a page, so a
 * read of it at a page-aligned file position pays that sixfold copy; whether another
 * buffer does depends on where the allocator put it. A placed buffer copies page to
 * page whatever the position: its first byte sits as far into a page of memory as the
 * position sits into a page of the file.
 */
export const PAGE_BYTES = 4096;

/** Reads from this size on are placed; a smaller copy costs less than the aligned allocation. */
export const PLACED_READ_BYTES_MIN = 64 * 1024;

/** How far into its page the file position `position` falls. */
export function pageOffsetOf(position: number): number {
  return position % PAGE_BYTES;
}

/** Page-aligned, zero-filled memory for placed reads: `bytes` long, first touched by the read. */
export function allocReadMemory(bytes: number): ArrayBuffer {
  const memory = allocAligned(Math.max(1, bytes), PAGE_BYTES);
  return memory.buffer as ArrayBuffer;
}

/**
 * `length` bytes of `memory` (page-aligned, from `allocReadMemory`) placed for a read at
 * `position`; `memory` needs `pageOffsetOf(position) + length` bytes.
 */
export function placedView(memory: ArrayBuffer, position: number, length: number): Uint8Array {
  return new Uint8Array(memory, pageOffsetOf(position), length);
}

/** A buffer of its own for one read of `length` bytes at `position`, placed when the read is large. */
export function allocReadBuffer(length: number, position: number): Uint8Array {
  if (length < PLACED_READ_BYTES_MIN) {
    const unzeroed = Buffer.allocUnsafeSlow(length);
    return new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, length);
  }
  return placedView(allocReadMemory(pageOffsetOf(position) + length), position, length);
}
