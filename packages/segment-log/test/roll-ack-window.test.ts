// The window a roll into a prepared file opens: the batch that rolled is acknowledged by a
// flush that syncs no directory, and the rename to the segment's own name (with its
// directory sync) and the next prepared file come after. A power cut anywhere in that
// window keeps every acknowledged record, whatever became of the unsynced entries; damage
// to durable bytes of the sealed segment is refused, never cut with the segment after it.
import { FaultFs, type Damage, type DataLoss, type EntryLoss } from '@keel/conformance';
import { InterceptedIo, isKeelError, type IoMutation } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, PREPARED_SEGMENT_NAME, segmentPaths } from '../src/format.js';
import { expectReopened, preparedLogOn, record } from './support/id-records.js';
import { idFrameBytes } from './support/id-frames.js';

const DIR = '/store';
/**
 * Segment 0 holds the frame of the three synced records and a frame of one more: an
 * append of one record fills it, and the batch appended after it in the same turn rolls
 * (a batch that does not fit the rest of a segment rolls before it writes anything) and
 * is one frame of segment 1.
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3) + idFrameBytes(1);

/** Holds back every directory sync from `hold()` on: each one starts, and waits there. */
class HeldDirectorySyncs extends InterceptedIo {
  #held = false;
  heldSyncs = 0;

  hold(): void {
    this.#held = true;
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'sync-dir' && this.#held) {
      this.heldSyncs++;
      await new Promise<never>(() => undefined);
    }
    return super.aroundAsync(operation, path, run);
  }
}



function open(io: FaultFs | HeldDirectorySyncs): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

/**
 * A log whose second segment started in the prepared file: 3 records synced, the prepared
 * file made, then `rolled` records (the fourth appended alone, the rest as a batch that
 * rolls) synced with every directory sync held back. Returns the disk as it is at that moment and what was
 * acknowledged; the log is left open (its held work never ends).
 */
async function ackedWithoutDirectorySync(rolled: number): Promise<{ fs: FaultFs; acknowledged: number; heldSyncs: number }> {
  const { fs, io, log } = await preparedLogOn(DIR, (disk) => new HeldDirectorySyncs(disk), open);
  io.hold();
  log.append(record(3));
  log.appendBatch(Array.from({ length: rolled - 1 }, (_, index) => record(4 + index)));
  expect(log.segments().length).toBe(2);
  const acknowledged = await log.sync();
  expect(acknowledged).toBe(3 + rolled);
  return { fs: fs.clone(), acknowledged, heldSyncs: io.heldSyncs };
}

/**
 * Records damage may take from the end: damage to segment 1 (under its own name or the
 * prepared one) can look like a torn tail, and takes the frame it lands in, which holds
 * every record of segment 1 (the batch that rolled, one append). Segment 0 is
 * sealed and durable: damage to it, or to any other file, must take nothing.
 */
function damageAllowance(damagedPath: string | null, rolled: number): number {
  const segment1 = [segmentPaths(DIR, 4).log, `${DIR}/${PREPARED_SEGMENT_NAME}`];
  return damagedPath !== null && segment1.includes(damagedPath) ? rolled - 1 : 0;
}

const crashPlan = fc.record({
  rolled: fc.integer({ min: 2, max: 5 }),
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  data: fc.constantFrom<DataLoss>({ mode: 'keep-all' }, { mode: 'lose-all' }, { mode: 'byte-prefix' }, { mode: 'torn', granularity: 1 }),
  entries: fc.constantFrom<EntryLoss>('keep-all', 'lose-all', 'subset'),
  damage: fc.constantFrom<Damage | null>(null, null, { kind: 'bit-flip' }, { kind: 'misdirect', length: 2 }, { kind: 'misdirect', length: 16 }),
});

it('a power cut after the sync of the batch that rolled into the prepared file, before any directory sync after it, keeps every acknowledged record', async () => {
  const property = fc.asyncProperty(crashPlan, async ({ rolled, seed, data, entries, damage }) => {
    const { fs, acknowledged } = await ackedWithoutDirectorySync(rolled);
    const plan = damage === null ? { seed, data, entries } : { seed, data, entries, damage, isDerived: (path: string) => path.endsWith('index') };
    const crashed = fs.crash(plan);
    try {
      // Damage that open cannot tell from a torn tail takes the frame it touched with it, no more.
      await expectReopened(await open(crashed.fs), acknowledged - damageAllowance(crashed.effects.damagedPath, rolled));
    } catch (error) {
      // Damage to durable bytes may be refused, at open or at the read that meets it (nothing else may be).
      if (crashed.effects.damagedPath !== null && isKeelError(error, 'KEEL_CORRUPT')) return;
      throw error;
    }
  });
  await fc.assert(property, { numRuns: 120 });
});

it('the sync of the batch that rolled waits on no directory sync, and a power cut losing every unsynced entry finds the segment under the prepared name', async () => {
  const { fs, acknowledged, heldSyncs } = await ackedWithoutDirectorySync(4);
  // The background rename's directory sync started (and is held); none was on the sync's path.
  expect(heldSyncs).toBeLessThanOrEqual(1);
  const log = await open(fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs);
  try {
    expect(log.nextOffset).toBe(acknowledged);
    expect(log.recovery.actions.some((action) => action.kind === 'completed-switch')).toBe(true);
    expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4]);
  } finally {
    await log.close();
  }
});
