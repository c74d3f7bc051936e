import { isKeelError } from './errors.js';
import type { Io } from './io.js';

/** Removes a file left by a failed protocol step; the failure being reported matters more than a file that could not be removed (recovery removes it). */
export function removeQuietly(io: Io, path: string): void {
  try {
    io.remove(path);
  } catch (error) {
    if (!isKeelError(error)) throw error;
  }
}

/** Removes `path` when it is there; a missing file is what the caller wanted, any other failure is reported. */
export function removeIfPresent(io: Io, path: string): void {
  try {
    io.remove(path);
  } catch (error) {
    if (!isKeelError(error, 'KEEL_NOT_FOUND')) throw error;
  }
}

/** `removeIfPresent` off the event loop where the Io can (`Io.removeAsync`), else on it. */
export async function removeIfPresentAsync(io: Io, path: string): Promise<void> {
  if (io.removeAsync === undefined) return removeIfPresent(io, path);
  try {
    await io.removeAsync(path);
  } catch (error) {
    if (!isKeelError(error, 'KEEL_NOT_FOUND')) throw error;
  }
}
