import type { IoFile } from '@keel/core';
import type { SliceClock } from './slices.js';

/**
 * Bytes cut from a replaced log per turn of the event loop. Freeing a file's blocks (and
 * its cached pages) takes time in proportion to its size, and unlinking a log of several
 * hundred megabytes frees them all in one blocking call: cut down first, it is cheap.
 */
const SHRINK_STEP_BYTES = 32 * 1024 * 1024;

/**
 * Cuts a log no one reads any more down to `keep` bytes (its header, so that it is still
 * recognised as this store's older generation, which open removes, should a crash come
 * before its unlink), a step per turn.
 */
export async function shrinkInSlices(file: IoFile, keep: number, clock: SliceClock): Promise<void> {
  for (let length = file.sizeSync(); length > keep; ) {
    length = Math.max(keep, length - SHRINK_STEP_BYTES);
    file.setLengthSync(length);
    await clock.pause();
  }
}
