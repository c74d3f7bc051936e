import { spawnSync } from 'node:child_process';
import { accessSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { measureRound } from './harness.js';
import type { Scenario, ScenarioContext } from './types.js';

/**
 * Counting fdatasync calls shows group commit at work: N waiting writers should cost
 * far fewer than N syncs. A child process runs one system of one scenario under
 * `strace -f`; the round to count is fenced by two access() calls on marker paths that
 * cannot exist, so setup and warm-up syncs are left out.
 */
const MARKER_BEGIN = '/keel-bench-marker-begin';
const MARKER_END = '/keel-bench-marker-end';
const TRACED_CALLS = 'fdatasync,fsync,msync,access,faccessat,faccessat2';
const SYNC_CALL = /\b(fdatasync|fsync|msync)\(/;
const PROBE_TIMEOUT_MILLISECONDS = 180_000;

function mark(path: string): void {
  try {
    accessSync(path);
  } catch {
    // The path never exists; the failed call is the marker in the trace.
  }
}

export function straceAvailable(): boolean {
  const probe = spawnSync('strace', ['-V'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** Counts the sync calls between the markers in an strace log. */
export function countSyncCalls(trace: string): number {
  let inside = false;
  let count = 0;
  for (const line of trace.split('\n')) {
    if (line.includes(MARKER_BEGIN)) inside = true;
    else if (line.includes(MARKER_END)) inside = false;
    else if (inside && SYNC_CALL.test(line)) count++;
  }
  return count;
}

/** Runs in the parent: traces `system` of `scenario` in a child; undefined when it cannot. */
export function traceSyncs(cliPath: string, scenario: string, system: string, context: ScenarioContext): number | undefined {
  const traceFile = join(context.directory, `strace-${process.pid}.log`);
  const nodeArguments = ['--expose-gc', cliPath, '--probe-syncs', scenario, system, ...(context.quick ? ['--quick'] : [])];
  const child = spawnSync('strace', ['-f', '-qq', '-e', `trace=${TRACED_CALLS}`, '-o', traceFile, process.execPath, ...nodeArguments], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: PROBE_TIMEOUT_MILLISECONDS,
  });
  try {
    if (child.status !== 0) return undefined;
    return countSyncCalls(readFileSync(traceFile, 'utf8'));
  } catch {
    return undefined;
  } finally {
    rmSync(traceFile, { force: true });
  }
}

/**
 * Runs in the traced child: set up one system, then run the fenced round. No warm-up:
 * a sync count does not depend on a warm cache, and tracing slows everything down.
 */
export async function probeSyncs(scenario: Scenario, systemName: string, context: ScenarioContext): Promise<void> {
  const sizing = scenario.sizing(context.quick);
  const systems = await scenario.systems(context, sizing);
  const system = systems.find((candidate) => candidate.name === systemName);
  if (system === undefined) throw new Error(`${scenario.name} has no system ${systemName}`);
  await system.setup?.();
  try {
    mark(MARKER_BEGIN);
    await measureRound(scenario, sizing, system);
    mark(MARKER_END);
  } finally {
    await system.teardown?.();
  }
}
