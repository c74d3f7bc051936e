import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, expectCode, logPath, temporaryDir } from './helpers.js';

type Step = { kind: 'put'; key: string; value: number } | { kind: 'del'; key: string } | { kind: 'snapshot' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.nat(1000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.constantFrom('a', 'b', 'c') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
);

function stateOf(kv: WalKv<Uint8Array>): Record<string, string> {
  return Object.fromEntries([...kv.entries()].map(([key, value]) => [key, Buffer.from(value).toString()]));
}

describe('a deleted key never comes back', () => {
  it('after the log is cut at any byte: the state is that after a prefix of the writes (refused first if durable bytes were lost)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 25 }), fc.double({ min: 0, max: 1, noNaN: true }), async (steps, where) => {
        const dir = temporaryDir();
        const kv = await WalKv.open<Uint8Array>(dir, { checkpointEveryBytes: Infinity });
        // After each write: where its record ends in the log, and the state it leaves.
        const model = new Map<string, string>();
        const history: Array<{ end: number; state: Record<string, string> }> = [{ end: kv.stats().logBytes, state: {} }];
        let snapshotCovers = 0;
        for (const step of steps) {
          if (step.kind === 'snapshot') {
            await kv.checkpoint();
            snapshotCovers = kv.stats().logBytes;
            continue;
          }
          if (step.kind === 'put') {
            kv.put(step.key, bytes(String(step.value)));
            model.set(step.key, String(step.value));
          } else {
            kv.delete(step.key);
            model.delete(step.key);
          }
          history.push({ end: kv.stats().logBytes, state: Object.fromEntries([...model].sort()) });
        }
        await kv.close();
        const full = readFileSync(logPath(dir));
        const first = history[0]!.end;
        const cut = first + Math.floor(where * (full.length - first));
        writeFileSync(logPath(dir), full.subarray(0, cut));
        // Bytes a snapshot covered were durable: losing them is corruption, refused unless salvaging.
        const lostDurable = cut < snapshotCovers;
        if (lostDurable) await expectCode(() => WalKv.open(dir), 'KEEL_CORRUPT');
        const reopened = await WalKv.open<Uint8Array>(dir, lostDurable ? { recovery: 'salvage' } : {});
        const expected = history.filter((entry) => entry.end <= cut).at(-1)!.state;
        expect(stateOf(reopened)).toEqual(expected);
        await reopened.close();
      }),
      { numRuns: 60 },
    );
  });

  it('after snapshot, compaction and reopen', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('gone', bytes('1'));
    kv.put('kept', bytes('2'));
    await kv.checkpoint();
    kv.delete('gone');
    await kv.close();

    const second = await WalKv.open(dir);
    expect(second.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
    expect(second.has('gone')).toBe(false);
    await second.compact();
    expect(second.has('gone')).toBe(false);
    second.put('other', bytes('3'));
    await second.close();

    const third = await WalKv.open(dir);
    expect(third.has('gone')).toBe(false);
    expect([...third.keys()]).toEqual(['kept', 'other']);
    await third.close();
  });
});
