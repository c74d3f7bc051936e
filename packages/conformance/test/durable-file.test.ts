import { writeFileDurably, writeFileDurablySync, type FileContents } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { FaultFs, type CrashPlan, type DataLoss, type EntryLoss } from '../src/index.js';

const DATA_LOSSES: DataLoss[] = [
  { mode: 'keep-all' },
  { mode: 'lose-all' },
  { mode: 'byte-prefix' },
  { mode: 'fill', fill: 'zero' },
  { mode: 'fill', fill: 'garbage' },
  { mode: 'torn', granularity: 512 },
  { mode: 'torn', granularity: 1 },
  { mode: 'subset' },
];
const ENTRY_LOSSES: EntryLoss[] = ['keep-all', 'lose-all', 'subset'];
const SEEDS_PER_PLAN = 4;

const OLD = new Uint8Array(700).fill(0x11);
/** Two buffers, over a sector boundary, so that torn and subset states have pieces to mix. */
const NEW: Uint8Array[] = [new Uint8Array(600).fill(0x22), new Uint8Array(900).fill(0x33)];
const NEW_WHOLE = Uint8Array.from([...(NEW[0] as Uint8Array), ...(NEW[1] as Uint8Array)]);

function diskWithOldFile(): FaultFs {
  const fs = new FaultFs();
  fs.mkdir('/d');
  fs.syncDirSync('/'); // the directory itself is durable: only the file's fate is in question
  const file = fs.open('/d/target', { createNew: true });
  file.writeSync(OLD, 0);
  file.datasyncSync();
  file.closeSync();
  fs.syncDirSync('/d');
  return fs;
}

type Writer = (fs: FaultFs, contents: FileContents) => Promise<void>;
const WRITERS: Record<string, Writer> = {
  async: (fs, contents) => writeFileDurably(fs, '/d/target', contents, { temporaryPath: '/d/target.tmp' }),
  sync: async (fs, contents) => writeFileDurablySync(fs, '/d/target', contents, { temporaryPath: '/d/target.tmp' }),
};

function* plans(): Generator<CrashPlan> {
  for (const data of DATA_LOSSES) for (const entries of ENTRY_LOSSES) for (let seed = 1; seed <= SEEDS_PER_PLAN; seed++) yield { seed, data, entries };
}

function same(left: Uint8Array | undefined, right: Uint8Array): boolean {
  return left !== undefined && left.length === right.length && left.every((byte, index) => byte === right[index]);
}

describe('writeFileDurably under every crash state', () => {
  for (const [name, write] of Object.entries(WRITERS)) {
    it(`(${name}) leaves the target old or whole new after a crash at every step, and new once it returned`, async () => {
      const full = diskWithOldFile();
      const before = full.mutations;
      await write(full, NEW);
      const steps = full.mutations - before;
      expect(steps).toBeGreaterThanOrEqual(5);
      let newSeen = 0;
      let oldSeen = 0;
      for (let step = 1; step <= steps + 1; step++) {
        const fs = diskWithOldFile();
        fs.crashAtMutation(step);
        const finished = await write(fs, NEW).then(
          () => true,
          () => false,
        );
        // Past the last step nothing froze: the call returned, and only the new content may survive.
        const returned = step > steps;
        expect(finished || fs.frozen).toBe(true);
        for (const plan of plans()) {
          const target = fs.crash(plan).fs.files().get('/d/target');
          const isNew = same(target, NEW_WHOLE);
          if (returned) expect(isNew, `step ${step}, plan ${JSON.stringify(plan)}`).toBe(true);
          else expect(isNew || same(target, OLD), `step ${step}, plan ${JSON.stringify(plan)}`).toBe(true);
          if (isNew) newSeen++;
          else oldSeen++;
        }
      }
      // Both outcomes are reachable: the check above is not vacuous.
      expect(newSeen).toBeGreaterThan(0);
      expect(oldSeen).toBeGreaterThan(0);
    });
  }
});
