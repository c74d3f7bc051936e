// keel crash demo: a child process appends records to a journal and reports each one
// once it is durable; this process SIGKILLs it mid-stream, reopens the journal, and
// checks that every acknowledged record is there and intact. Exit code 1 if not.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal, type JournalStats } from '@keel/journal';
import type { RecoveryReport } from '@keel/core';
import { checkPayload } from './payload.js';

const ACKNOWLEDGEMENTS_BEFORE_KILL = 5000;
// Run beside the compiled main.js, or beside main.ts when run from sources.
const WRITER = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './writer.ts' : './writer.js', import.meta.url));

interface Run {
  acknowledged: Map<number, number>;
  elapsedMs: number;
}

/** Starts the writer and SIGKILLs it once enough records are acknowledged (by its output, not a timer). */
function runWriterUntilKilled(path: string): Promise<Run> {
  const child = spawn(process.execPath, [...process.execArgv, WRITER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged = new Map<number, number>();
  // Throughput counts from the first acknowledgement, leaving out process start-up.
  let started = 0;
  let elapsedMs = 0;
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (started === 0) started = performance.now();
    const lines = (partial + chunk.toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const space = line.indexOf(' ');
      acknowledged.set(Number(line.slice(0, space)), Number(line.slice(space + 1)));
    }
    if (acknowledged.size >= ACKNOWLEDGEMENTS_BEFORE_KILL && child.exitCode === null && elapsedMs === 0) {
      elapsedMs = performance.now() - started;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited on its own (code ${code}, signal ${signal})`));
      else resolve({ acknowledged, elapsedMs });
    });
  });
}

interface Verification {
  recovery: RecoveryReport;
  recoveryMs: number;
  recovered: number;
  damaged: number;
  missing: number[];
  stats: JournalStats;
}

async function reopenAndVerify(path: string, acknowledged: Map<number, number>): Promise<Verification> {
  const started = performance.now();
  const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
  const recoveryMs = performance.now() - started;
  const found = new Set<number>();
  let damaged = 0;
  for (const record of journal.records()) {
    const sequence = checkPayload(record.payload);
    if (sequence === null) damaged++;
    else found.add(sequence);
  }
  const missing = [...acknowledged.keys()].filter((sequence) => !found.has(sequence));
  const stats = journal.stats();
  await journal.close();
  return { recovery: journal.recovery, recoveryMs, recovered: found.size, damaged, missing, stats };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-crash-demo-'));
  const path = join(dir, 'demo.wal');
  console.log(`keel crash demo: writing to ${path} from a child process, SIGKILL after ${ACKNOWLEDGEMENTS_BEFORE_KILL} durable acknowledgements`);
  const run = await runWriterUntilKilled(path);
  const result = await reopenAndVerify(path, run.acknowledged);
  console.log('recovery report:', JSON.stringify(result.recovery, null, 2));
  console.log(`records acknowledged durable: ${run.acknowledged.size}`);
  console.log(`records recovered intact:     ${result.recovered} (${result.recovered - run.acknowledged.size} written but not yet acknowledged)`);
  console.log(`damaged records returned:     ${result.damaged}`);
  console.log(`recovery time:                ${result.recoveryMs.toFixed(1)} ms for ${result.stats.nextLsn} bytes`);
  console.log(`durable appends/s (child):    ${Math.round((run.acknowledged.size / run.elapsedMs) * 1000)}`);
  const ok = result.missing.length === 0 && result.damaged === 0;
  if (ok) {
    console.log('OK: every acknowledged record survived the SIGKILL intact');
    rmSync(dir, { recursive: true, force: true });
    return 0;
  }
  console.error(`FAILED: ${result.missing.length} acknowledged records missing (first: ${result.missing.slice(0, 10).join(', ')}); journal kept at ${path}`);
  return 1;
}

process.exitCode = await main();
