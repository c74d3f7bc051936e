import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runChildUntilKilled } from '@keel/conformance';
import { SegmentLog } from '../src/index.js';
import { tempDir } from './helpers.js';
import { timestampFor, valueFor } from './support/record-for.js';

const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const ACKNOWLEDGED_BEFORE_KILL = 1200;

/** Runs the writer child, SIGKILLs it once enough records are acknowledged; returns the acknowledged end. */
async function runAndKill(dir: string): Promise<number> {
  let acknowledged = 0;
  let acknowledgedThisRun = 0;
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [dir],
    onLine: (line) => {
      const [first, count] = line.split(' ').map(Number) as [number, number];
      acknowledged = Math.max(acknowledged, first + count);
      acknowledgedThisRun += count;
      return acknowledgedThisRun >= ACKNOWLEDGED_BEFORE_KILL;
    },
  });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return acknowledged;
}

it('every record acknowledged by a SIGKILLed writer is there after reopen, and offsets continue', async () => {
  const dir = tempDir();
  for (let round = 0; round < 2; round++) {
    const acknowledged = await runAndKill(dir);
    await using log = await SegmentLog.open(dir, { segmentBytes: 32 * 1024, indexIntervalBytes: 1024 });
    expect(log.nextOffset).toBeGreaterThanOrEqual(acknowledged);
    expect(log.segments().length).toBeGreaterThan(2);
    let expected = 0;
    for await (const record of log.stream({ from: 0 })) {
      expect(record.offset).toBe(expected);
      expect(record.value).toEqual(valueFor(expected));
      expect(record.timestamp).toBe(timestampFor(expected));
      expected++;
    }
    expect(expected).toBe(log.nextOffset);
    await log.verify();
  }
});
