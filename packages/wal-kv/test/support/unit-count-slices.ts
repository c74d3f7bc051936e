import type * as Slices from '../../src/slices.js';

/** Units of work a slice of `unitCountSlices` holds. */
export const UNITS_PER_SLICE = 256;

/** Pauses taken by every clock of `unitCountSlices` so far. */
export const slicePauses = { count: 0 };

/**
 * A mock of `src/slices.js` whose slices end after a fixed count of work units instead of
 * after a span of time, so that how often maintenance yields depends only on the work it
 * reports, however fast the machine. Use as
 * `vi.mock('../src/slices.js', (importOriginal) => import('./support/unit-count-slices.js').then((mock) => mock.unitCountSlices(importOriginal)))`.
 */
export async function unitCountSlices(importOriginal: () => Promise<typeof Slices>): Promise<typeof Slices> {
  const original = await importOriginal();
  class UnitCount extends original.SliceClock {
    #units = 0;
    override due(units = 1): boolean {
      this.#units += units;
      return this.#units >= UNITS_PER_SLICE;
    }
    override async pause(): Promise<void> {
      this.#units = 0;
      slicePauses.count++;
      await super.pause();
    }
  }
  return { ...original, SliceClock: UnitCount };
}
