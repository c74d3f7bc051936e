import { FaultFs, type DataLoss, type EntryLoss } from '@keel/conformance';
import { parentDir } from '@keel/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES } from '../src/format.js';
import { expectReopened, record } from './support/id-records.js';
import { idFrameBytes } from './support/id-frames.js';

const DIR = '/store';
/**
 * Records of 8-byte ids: three of one append (one frame) fill a segment, so rolls come
 * often: inside an append of four or more, and at any append to a segment that holds a
 * record already.
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3);

type Step =
  | { kind: 'append'; count: number }
  | { kind: 'roll' }
  | { kind: 'sync' }
  /** A sync started and not waited for: the flush (and the rename it starts) runs on while later steps go. */
  | { kind: 'sync-in-background' }
  | { kind: 'sync-sync' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 7 }).map((count): Step => ({ kind: 'append', count })) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'roll' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'sync' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'sync-in-background' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'sync-sync' }) },
);

/** Power cuts without damage: what a real kernel leaves, which open must always take. */
const plan = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  data: fc.constantFrom<DataLoss>({ mode: 'keep-all' }, { mode: 'lose-all' }, { mode: 'byte-prefix' }),
  entries: fc.constantFrom<EntryLoss>('keep-all', 'lose-all', 'subset'),
});



function open(io: FaultFs): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

/** Runs the steps until the disk freezes at its crash point; returns how many records were acknowledged durable. */
async function runSteps(fs: FaultFs, steps: readonly Step[]): Promise<number> {
  let written = 0;
  let acknowledged = 0;
  const background: Promise<unknown>[] = [];
  let log: SegmentLog | null = null;
  try {
    log = await open(fs);
    for (const next of steps) {
      if (next.kind === 'append') {
        log.appendBatch(Array.from({ length: next.count }, (_, index) => record(written + index)));
        written += next.count;
      } else if (next.kind === 'roll') {
        log.roll();
      } else if (next.kind === 'sync') {
        acknowledged = Math.max(acknowledged, await log.sync());
      } else if (next.kind === 'sync-in-background') {
        background.push(log.sync().then((durable) => (acknowledged = Math.max(acknowledged, durable))));
      } else {
        acknowledged = Math.max(acknowledged, log.syncSync());
      }
    }
    await Promise.all(background);
  } catch (error) {
    if (!fs.frozen) throw error;
  }
  await Promise.allSettled(background);
  await log?.close().catch(() => undefined);
  return acknowledged;
}

it('appends, rolls into prepared files, async and synchronous syncs, crashed at any disk operation and power cut: open takes every state, keeps every acknowledged record and only a prefix of what was written', async () => {
  const property = fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 24 }), fc.nat(), plan, async (steps, crashPoint, crash) => {
    const counting = new FaultFs();
    counting.mkdir(DIR);
    counting.syncDirSync(parentDir(DIR));
    await runSteps(counting, steps);
    const fs = new FaultFs();
    fs.mkdir(DIR);
    fs.syncDirSync(parentDir(DIR));
    fs.crashAtMutation(1 + (crashPoint % Math.max(1, counting.mutations)));
    const acknowledged = await runSteps(fs, steps);
    const crashed = fs.crash(crash).fs;
    await expectReopened(await open(crashed), acknowledged);
  });
  await fc.assert(property, { numRuns: 150 });
});
