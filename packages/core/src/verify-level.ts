import { badArgument } from './errors.js';
import { describeType } from './validate.js';

/**
 * How much a store checks at open, the same option in every backend that keeps sealed
 * data: `'headers'` (default) checks each file's header and what recovery needs, and
 * leaves the rest to the CRC check of every read; `'full'` reads every frame and refuses
 * to open (KEEL_CORRUPT, nothing changed) on damage anywhere.
 */
export type VerifyLevel = 'headers' | 'full';

export const VERIFY_LEVEL_DEFAULT: VerifyLevel = 'headers';

export function normalizeVerifyLevel(value: unknown): VerifyLevel {
  if (value === undefined) return VERIFY_LEVEL_DEFAULT;
  if (value !== 'headers' && value !== 'full') throw badArgument(`verify must be 'headers' or 'full', got ${describeType(value)}`);
  return value;
}
