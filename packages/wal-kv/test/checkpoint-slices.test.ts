import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { WalKv } from '../src/index.js';
import { logPath, snapshotNames, temporaryDir } from './helpers.js';

// Every slice as short as it can be: the checkpoint yields a turn of the event loop after
// each native step (at most 16k keys walked), and after each entry it takes from the read
// view, however fast the machine.
vi.mock('../src/slices.js', (importOriginal) => import('./support/every-step-slices.js').then((mock) => mock.everyStepSlices(importOriginal)));

/** Enough keys that the checkpoint walks them in several steps. */
const KEYS = 40_000;
const name = (n: number): string => `key-${String(n).padStart(6, '0')}`;

/** The store as of its newest checkpoint alone: the checkpoint, and the log cut exactly where it ends. */
function checkpointOnly(dir: string, checkpointPosition: number): string {
  const copy = join(temporaryDir(), 'copy');
  mkdirSync(copy);
  copyFileSync(join(dir, 'STORE'), join(copy, 'STORE'));
  const newest = snapshotNames(dir).sort((a, b) => Number(b.match(/\d+/)![0]) - Number(a.match(/\d+/)![0]))[0]!;
  copyFileSync(join(dir, newest), join(copy, newest));
  const log = logPath(dir);
  writeFileSync(join(copy, log.slice(log.lastIndexOf('/') + 1)), readFileSync(log).subarray(0, checkpointPosition));
  return copy;
}

describe('a checkpoint is encoded in slices while writes go on', () => {
  it('and holds exactly the index as of its start (a read view taken then agrees)', async () => {
    const writes = fc.array(fc.record({ key: fc.integer({ min: 0, max: KEYS + 50 }), del: fc.boolean() }), { minLength: 1, maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(writes, async (plan) => {
        const dir = temporaryDir();
        const kv = await WalKv.open<string>(dir, { durability: { mode: 'explicit' }, valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
        kv.putBatch(Array.from({ length: KEYS }, (_, n) => [name(n), `v${n}`] as [string, string]));
        const done = kv.checkpoint();
        using then = kv.snapshot();
        let settled = false;
        void done.finally(() => (settled = true));
        // Writes land between the checkpoint's slices (it yields the event loop after each).
        for (const write of plan) {
          if (settled) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (write.del) kv.delete(name(write.key));
          else kv.put(name(write.key), 'later');
        }
        await done;
        const expected = [...then.entries()];
        const { checkpointPosition } = kv.stats();
        await kv.close();
        const copy = await WalKv.open<string>(checkpointOnly(dir, checkpointPosition), { valueEncoding: 'utf8', readOnly: true });
        expect(copy.recovery.actions.some((action) => action.kind === 'loaded-snapshot')).toBe(true);
        expect([...copy.entries()]).toEqual(expected);
        await copy.close();
      }),
      { numRuns: 4 },
    );
  });
});
