import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { BACKENDS, type BackendName } from '../detect.js';
import { CommandFailure, EXIT_FAILED, EXIT_USAGE, printJson } from '../output.js';
import { survey, type TortureDurability } from '../torture/backends.js';

export interface TortureOptions {
  rounds?: string;
  seconds?: string;
  durability?: string;
  seed?: string;
  json?: boolean;
}

export interface TortureRound {
  backend: BackendName;
  round: number;
  killedAfterMs: number;
  acknowledged: number;
  recovered: number;
  lost: number;
  damaged: number;
  recoveryMs: number;
  recoveryActions: string[];
}

/** Ids of round r start here, so that every id a child writes is new. */
const IDS_PER_ROUND = 1_000_000_000;
const KILL_AFTER_MS_MIN = 20;
const KILL_AFTER_MS_MAX = 400;

// Beside the compiled command, or, when this module runs from its TypeScript source, the compiled child.
const CHILD = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/torture/child.js' : '../torture/child.js', import.meta.url));

/**
 * `keel torture <backend|all>`: a child process writes with the chosen durability and
 * is SIGKILLed at a random moment after its first acknowledgement; the store is then
 * opened (recovery runs) and every record read back. Rounds go on in the same store, so
 * recovery also meets what earlier kills left. Lost must be 0: exit 1 otherwise.
 */
export async function torture(target: string, options: TortureOptions): Promise<number> {
  const backends = target === 'all' ? BACKENDS : [target as BackendName];
  if (!BACKENDS.includes(backends[0]!)) throw new CommandFailure(`unknown backend ${target}; use one of ${BACKENDS.join(', ')} or all`, EXIT_USAGE);
  const rounds = positive(options.rounds, 'rounds', 5);
  const seconds = positive(options.seconds, 'seconds', Number.MAX_SAFE_INTEGER);
  const durability = (options.durability ?? 'explicit') as TortureDurability;
  if (durability !== 'explicit' && durability !== 'every-write') throw new CommandFailure(`--durability must be explicit or every-write, got ${durability}`, EXIT_USAGE);
  const seed = options.seed === undefined ? Date.now() >>> 0 : positive(options.seed, 'seed', 0);
  const random = xoroshiro128plus(seed);
  const deadline = performance.now() + seconds * 1000;
  const results: TortureRound[] = [];
  if (options.json !== true) process.stdout.write(`keel torture: ${backends.join(', ')}, ${rounds} rounds each, durability ${durability}, seed ${seed}\n`);
  for (const [index, backend] of backends.entries()) {
    // Each backend gets an equal share of what is left of the budget.
    const share = (deadline - performance.now()) / (backends.length - index);
    const rows = await tortureBackend(backend, rounds, performance.now() + share, durability, random);
    results.push(...rows);
  }
  if (options.json !== true) printTable(results);
  const lost = results.reduce((sum, row) => sum + row.lost + row.damaged, 0);
  if (options.json === true) printJson({ seed, durability, rounds: results, lost });
  else process.stdout.write(lost === 0 ? `OK: every acknowledged record survived ${results.length} SIGKILL${results.length === 1 ? '' : 's'} intact\n` : `FAILED: ${lost} acknowledged records lost or damaged (seed ${seed})\n`);
  return lost === 0 ? 0 : EXIT_FAILED;
}

async function tortureBackend(backend: BackendName, rounds: number, deadline: number, durability: TortureDurability, random: RandomGenerator): Promise<TortureRound[]> {
  const dir = mkdtempSync(join(tmpdir(), `keel-torture-${backend}-`));
  const acknowledged = new Set<number>();
  const rows: TortureRound[] = [];
  try {
    for (let round = 1; round <= rounds && (round === 1 || performance.now() < deadline); round++) {
      const killAfterMs = unsafeUniformIntDistribution(KILL_AFTER_MS_MIN, KILL_AFTER_MS_MAX, random);
      const acked = await runUntilKilled(backend, dir, durability, round * IDS_PER_ROUND, killAfterMs);
      for (const id of acked) acknowledged.add(id);
      const started = performance.now();
      const found = await survey(backend, dir);
      const recoveryMs = performance.now() - started;
      let lost = 0;
      for (const id of acknowledged) if (!found.ids.has(id)) lost++;
      rows.push({
        backend,
        round,
        killedAfterMs: killAfterMs,
        acknowledged: acknowledged.size,
        recovered: found.ids.size,
        lost,
        damaged: found.damaged,
        recoveryMs: Math.round(recoveryMs * 10) / 10,
        recoveryActions: found.recovery.actions.map((action) => action.kind),
      });
    }
    if (rows.every((row) => row.lost === 0 && row.damaged === 0)) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`keel torture: ${backend} store kept at ${dir}\n`);
    return rows;
  } catch (error) {
    process.stderr.write(`keel torture: ${backend} store kept at ${dir}\n`);
    throw error;
  }
}

/** Starts the writer and SIGKILLs it `killAfterMs` after its first acknowledgement; resolves with every id it acknowledged. */
function runUntilKilled(backend: BackendName, dir: string, durability: TortureDurability, firstId: number, killAfterMs: number): Promise<number[]> {
  const child = spawn(process.execPath, [CHILD, backend, dir, durability, String(firstId)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  let partial = '';
  let stderr = '';
  let timer: NodeJS.Timeout | null = null;
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) acked.push(Number(line));
    timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`the ${backend} writer exited on its own (code ${code}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new CommandFailure(`--${name} must be a non-negative integer, got ${value}`, EXIT_USAGE);
  return parsed;
}

function printTable(rows: readonly TortureRound[]): void {
  const header = ['backend', 'round', 'killed after', 'acknowledged', 'recovered', 'lost', 'damaged', 'recovery', 'recovery did'];
  const lines = rows.map((row) => [
    row.backend,
    String(row.round),
    `${row.killedAfterMs} ms`,
    String(row.acknowledged),
    String(row.recovered),
    String(row.lost),
    String(row.damaged),
    `${row.recoveryMs} ms`,
    row.recoveryActions.length === 0 ? '-' : row.recoveryActions.join(', '),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  for (const line of [header, ...lines]) process.stdout.write(`${line.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}\n`);
}
