import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { PayloadRef, PayloadStore } from '../src/index.js';
import { plain, tempDir } from './helpers.js';
import { payloadFor } from './support/payload-for.js';

// The TypeScript loader every child-process test shares (see @keel/conformance/hooks).
const REGISTER = createRequire(import.meta.url).resolve('@keel/conformance/hooks/register-ts.mjs');
const CHILD = fileURLToPath(new URL('./support/kill-child.ts', import.meta.url));
const ACKNOWLEDGEMENTS_BEFORE_KILL = 2000;

/** Runs the writer child, SIGKILLs it after enough acknowledgements, returns every acknowledged ref. */
async function runAndKill(dir: string, firstSequence: number): Promise<Map<number, PayloadRef>> {
  const child = spawn(process.execPath, ['--import', REGISTER, CHILD, dir, String(firstSequence)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged = new Map<number, PayloadRef>();
  let partial = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [sequence, hex] = line.split(' ') as [string, string];
      acknowledged.set(Number(sequence), PayloadRef.decode(Buffer.from(hex, 'hex')));
    }
    if (acknowledged.size >= ACKNOWLEDGEMENTS_BEFORE_KILL && child.exitCode === null) child.kill('SIGKILL');
  });
  const signal = await exited;
  expect(errors).toBe('');
  expect(signal).toBe('SIGKILL');
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
