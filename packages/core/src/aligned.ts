import { allocAligned } from '@keel/native';
import { badArgument } from './errors.js';

/** O_DIRECT needs buffers, offsets and lengths aligned to the device block; 4096 covers every common device. */
export const DIRECT_IO_ALIGNMENT_BYTES = 4096;

/**
 * A zero-filled buffer whose first byte sits at a multiple of `alignment`, as O_DIRECT
 * writes need. Node cannot allocate aligned memory itself, and backends may not import
 * @keel/native, so core hands the addon's allocator on.
 */
export function allocAlignedBuffer(length: number, alignment = DIRECT_IO_ALIGNMENT_BYTES): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw badArgument(`length must be a non-negative integer, got ${length}`);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw badArgument(`alignment must be a power of two, got ${alignment}`);
  }
  return allocAligned(length, alignment);
}
