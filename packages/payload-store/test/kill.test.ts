import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runChildUntilKilled } from '@keel/conformance';
import { PayloadRef, PayloadStore } from '../src/index.js';
import { plain, tempDir } from './helpers.js';
import { payloadFor } from './support/payload-for.js';

const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const ACKNOWLEDGEMENTS_BEFORE_KILL = 2000;

/** Runs the writer child, SIGKILLs it after enough acknowledgements, returns every acknowledged ref. */
async function runAndKill(dir: string, firstSequence: number): Promise<Map<number, PayloadRef>> {
  const acknowledged = new Map<number, PayloadRef>();
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [dir, String(firstSequence)],
    onLine: (line) => {
      const [sequence, hex] = line.split(' ') as [string, string];
      acknowledged.set(Number(sequence), PayloadRef.decode(Buffer.from(hex, 'hex')));
      return acknowledged.size >= ACKNOWLEDGEMENTS_BEFORE_KILL;
    },
  });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return acknowledged;
}

it('every payload acknowledged by a SIGKILLed writer reads back intact after reopen, twice over', async () => {
  const dir = tempDir();
  const all = new Map<number, PayloadRef>();
  for (let round = 0; round < 2; round++) {
    for (const [sequence, ref] of await runAndKill(dir, round * 1_000_000)) all.set(sequence, ref);
    await using store = await PayloadStore.open(dir, { durability: { mode: 'explicit' } });
    for (const [sequence, ref] of all) expect(plain(store.read(ref))).toEqual(payloadFor(sequence));
    expect(store.segments().length).toBeGreaterThan(2);
  }
});
