import { Buffer } from 'node:buffer';

/**
 * A copy of `source[0, length)` that is the caller's to keep and write into, from Node's
 * Buffer pool as `Buffer.allocUnsafe` hands them out (8 KiB pools for values under
 * 4 KiB, a buffer of its own above).
 *
 * Why not the native read copying each value straight into a 64 KiB slab of our own,
 * which saves this second copy: the bytes a get returns live outside the JS heap, and a
 * loop of gets that allocates little else lets V8 collect them only with full
 * mark-compacts of the whole heap, at a cost that grows with everything the process
 * holds. With 1 KiB values and 2M small objects held, such a round of 200k gets ran 16 to
 * 18 mark-compacts (11 µs of CPU a get); copied into pooled buffers, 0 or 1 (2.5 µs).
 * A 1 KiB copy in memory costs well under a tenth of a microsecond.
 */
export function ownedCopy(source: Uint8Array, length: number): Buffer {
  const copy = Buffer.allocUnsafe(length);
  copy.set(source.subarray(0, length));
  return copy;
}
