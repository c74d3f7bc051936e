import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { runChildUntilKilled } from '@keel/conformance';
import { Journal } from '../src/index.js';
import { checkPayload } from './support/record-payload.js';
import { useTempDir } from './support/temp-dir.js';

const tempDir = useTempDir();
const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const ACKNOWLEDGEMENTS_BEFORE_KILL = 3000;

/** Runs the writer child, SIGKILLs it after enough acknowledgements, returns every acknowledged sequence. */
async function runAndKill(path: string, firstSequence: number, direct: boolean): Promise<Map<number, number>> {
  const acknowledged = new Map<number, number>();
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [path, String(firstSequence), direct ? 'direct' : 'buffered'],
    onLine: (line) => {
      const [sequence, lsn] = line.split(' ').map(Number);
      acknowledged.set(sequence!, lsn!);
      return acknowledged.size >= ACKNOWLEDGEMENTS_BEFORE_KILL;
    },
  });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return acknowledged;
}

test('every record acknowledged by a SIGKILLed writer is intact after reopen, buffered then direct', async () => {
  const path = join(tempDir(), 'wal');
  for (let round = 0; round < 2; round++) {
    const firstSequence = round * 1_000_000;
    // The second writer reopens the first one's journal with O_DIRECT (where the file system allows it).
    const acknowledged = await runAndKill(path, firstSequence, round === 1);
    expect(acknowledged.size).toBeGreaterThanOrEqual(ACKNOWLEDGEMENTS_BEFORE_KILL);
    const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
    const found = new Map<number, number>();
    const order: number[] = [];
    for (const record of journal.records()) {
      const sequence = checkPayload(record.payload);
      expect(sequence).not.toBeNull();
      found.set(sequence!, record.lsn);
      if (sequence! >= firstSequence) order.push(sequence!);
    }
    // What survived is a prefix of what was written: no holes, no reordering.
    expect(order).toEqual(order.map((_, index) => firstSequence + index));
    for (const [sequence, lsn] of acknowledged) {
      expect(found.has(sequence)).toBe(true);
      expect(found.get(sequence)!).toBeLessThanOrEqual(lsn);
    }
    expect(journal.syncedLsn).toBe(journal.nextLsn);
    await journal.close();
  }
});
