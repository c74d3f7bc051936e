import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChildUntilKilled } from '@keel/conformance';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';
import { WRITER_KEYS, writerStateAfter } from './support/writer-ops.js';

const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const WRITERS = 4;
const ACKNOWLEDGEMENTS_BEFORE_KILL = 6000;
/** How far past its last acknowledged batch a writer may have got before the kill. */
const UNACKNOWLEDGED_ITERATIONS_MAX = 10_000;

/** With compactions running back to back: how many must have finished before the kill (the next is under way). */
const COMPACTIONS_BEFORE_KILL = 3;

/**
 * Runs the child until enough batches are acknowledged (and, when `compacting`, enough
 * compactions finished), SIGKILLs it, returns each writer's last acknowledged iteration.
 */
async function runAndKill(dir: string, firstIteration: number, compacting = false): Promise<number[]> {
  const lastAcknowledged = Array.from({ length: WRITERS }, () => firstIteration - 1);
  let acknowledgements = 0;
  let compactions = 0;
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [dir, String(firstIteration), ...(compacting ? ['compacting'] : [])],
    onLine: (line) => {
      if (line === 'compacted') compactions++;
      else {
        const [writer, iteration] = line.split(' ').map(Number);
        lastAcknowledged[writer!] = Math.max(lastAcknowledged[writer!]!, iteration!);
        acknowledgements++;
      }
      return acknowledgements >= ACKNOWLEDGEMENTS_BEFORE_KILL && (!compacting || compactions >= COMPACTIONS_BEFORE_KILL);
    },
  });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return lastAcknowledged;
}

function writerState(kv: WalKv<string>, writer: number): Map<string, string> {
  const state = new Map<string, string>();
  for (const [key, value] of kv.entries({ prefix: `${writer}:` })) state.set(String(key), value);
  return state;
}

/** Whether `found` is the state after some iteration in [acknowledged, acknowledged + MAX]. */
function isStateAfterPrefix(writer: number, acknowledged: number, found: Map<string, string>): boolean {
  const expected = writerStateAfter(writer, acknowledged);
  for (let iteration = acknowledged; iteration <= acknowledged + UNACKNOWLEDGED_ITERATIONS_MAX; iteration++) {
    if (iteration > acknowledged) writerStateAfter(writer, iteration, expected, iteration);
    if (expected.size === found.size && [...expected].every(([key, value]) => found.get(key) === value)) return true;
  }
  return false;
}

describe('a SIGKILLed writer', () => {
  it.each([
    ['with automatic checkpoints and compactions', false],
    ['in the middle of a compaction (they run back to back)', true],
  ])('loses nothing it was told is durable, and leaves the state after a prefix of each writer, %s', async (_, compacting) => {
    const dir = temporaryDir();
    const lastAcknowledged = await runAndKill(dir, 0, compacting);
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    for (let writer = 0; writer < WRITERS; writer++) {
      expect(lastAcknowledged[writer]).toBeGreaterThan(0);
      const found = writerState(kv, writer);
      expect(found.size).toBeLessThanOrEqual(WRITER_KEYS);
      expect(isStateAfterPrefix(writer, lastAcknowledged[writer]!, found), `writer ${writer} acknowledged through ${lastAcknowledged[writer]}`).toBe(true);
    }
    const stats = kv.stats();
    expect(stats.durableSeq).toBe(stats.lastSeq);
    await kv.close();
    const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(again.recovery.tailState).toBe('clean-end');
    expect(again.recovery.discardedBytes).toBe(0);
    await again.close();
  });
});
