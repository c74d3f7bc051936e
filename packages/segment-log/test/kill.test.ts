import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { tempDir } from './helpers.js';
import { timestampFor, valueFor } from './support/record-for.js';

// The TypeScript loader every child-process test shares (see @keel/conformance/hooks).
const REGISTER = createRequire(import.meta.url).resolve('@keel/conformance/hooks/register-ts.mjs');
const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const ACKNOWLEDGED_BEFORE_KILL = 1200;

/** Runs the writer child, SIGKILLs it once enough records are acknowledged; returns the acknowledged end. */
async function runAndKill(dir: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', REGISTER, CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let acknowledged = 0;
  let acknowledgedThisRun = 0;
  let partial = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [first, count] = line.split(' ').map(Number) as [number, number];
      acknowledged = Math.max(acknowledged, first + count);
      acknowledgedThisRun += count;
    }
    if (acknowledgedThisRun >= ACKNOWLEDGED_BEFORE_KILL && child.exitCode === null) child.kill('SIGKILL');
  });
  const signal = await exited;
  expect(errors).toBe('');
  expect(signal).toBe('SIGKILL');
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
