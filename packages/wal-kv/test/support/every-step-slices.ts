import type * as Slices from '../../src/slices.js';

/**
 * A mock of `src/slices.js` whose every slice is as short as it can be: maintenance
 * yields a turn of the event loop after each step, so even a small store's checkpoint
 * or compaction spans many turns with writes between, however fast the machine. Use as
 * `vi.mock('../src/slices.js', (importOriginal) => import('./support/every-step-slices.js').then((mock) => mock.everyStepSlices(importOriginal)))`.
 */
export async function everyStepSlices(importOriginal: () => Promise<typeof Slices>): Promise<typeof Slices> {
  const original = await importOriginal();
  class EveryStep extends original.SliceClock {
    override due(): boolean {
      return true;
    }
  }
  return { ...original, SliceClock: EveryStep };
}
