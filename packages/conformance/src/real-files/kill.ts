import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendAdapter, LogRecord } from '../adapter.js';
import { makePayload, payloadId } from '../model.js';
import { Random } from '../random.js';
import { violation } from '../violation.js';
import { KILL_KEYS, KILL_ROUND_IDS, killRecordBytes } from './kill-workload.js';
import { runChildUntilKilled } from './kill-child-process.js';
import { openOnDisk } from './store-driver.js';

export interface KillTestOptions {
  /** The module that exports the adapter, as a file URL (`new URL('./conformance-adapter.ts', import.meta.url).href`). */
  adapterModule: string;
  /** The adapter's export name in that module. */
  exportName: string;
  /** Writers killed one after another on the same store (default 2). */
  rounds?: number;
  /** Drives how many acknowledgements each writer gets before the kill. */
  seed?: number;
}

const ACKNOWLEDGEMENTS_MIN = 5;
const ACKNOWLEDGEMENTS_MAX = 120;
const CHILD = fileURLToPath(new URL(`./kill-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/**
 * Runs a writer child process on real files, SIGKILLs it after a random number of
 * acknowledgements (read from its stdout: no sleeps), reopens the store in this process
 * and checks that every acknowledged record survived and that what survived is a prefix
 * of what was written; several rounds on the same store, each continuing after the last.
 */
export async function runKillTest(adapter: BackendAdapter, options: KillTestOptions): Promise<{ rounds: number; acknowledged: number }> {
  const root = mkdtempSync(join(tmpdir(), 'keel-kill-'));
  const dir = join(root, 'store');
  const seed = options.seed ?? Date.now() % 0x8000_0000;
  const random = new Random(seed);
  let acknowledged = 0;
  try {
    const rounds = options.rounds ?? 2;
    for (let round = 0; round < rounds; round++) {
      const first = round * KILL_ROUND_IDS;
      const lastAcked = await runAndKill(options, dir, first, random.between(ACKNOWLEDGEMENTS_MIN, ACKNOWLEDGEMENTS_MAX));
      acknowledged += lastAcked - first + 1;
      await checkAfterKill(adapter, dir, round, lastAcked);
    }
    return { rounds, acknowledged };
  } catch (error) {
    // The kill points come from the seed: with it, options.seed replays the same rounds.
    if (error instanceof Error) error.message = `${error.message} (kill test seed ${seed})`;
    throw error;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Returns the last acknowledged id. */
async function runAndKill(options: KillTestOptions, dir: string, first: number, acknowledgements: number): Promise<number> {
  let lastAcked = first - 1;
  let seen = 0;
  const child = await runChildUntilKilled({
    script: CHILD,
    args: [options.adapterModule, options.exportName, dir, String(first)],
    onLine: (line) => {
      lastAcked = Number(line);
      return ++seen >= acknowledgements;
    },
  });
  if (child.signal !== 'SIGKILL') throw new Error(`writer child ended without being killed (${child.signal ?? child.code}): ${child.stderr}`);
  return lastAcked;
}

async function checkAfterKill(adapter: BackendAdapter, dir: string, round: number, lastAcked: number): Promise<void> {
  const store = await openOnDisk(adapter, dir);
  try {
    if (adapter.kind === 'log') checkLog(await adapter.read(store), round, lastAcked);
    else checkKv(await adapter.read(store), round, lastAcked);
  } finally {
    await adapter.close(store);
  }
}

/** Each round's ids run on without holes from the round's first id through at least its last acknowledged one. */
function checkLog(records: readonly LogRecord[], round: number, lastAcked: number): void {
  const expected = new Map<number, number>();
  for (const record of records) {
    const id = payloadId(record.payload);
    if (id === null || !sameBytes(record.payload, makePayload(id, killRecordBytes(id)))) violation(`record at ${record.position} holds bytes never written`);
    const owner = Math.floor(id / KILL_ROUND_IDS);
    const next = expected.get(owner) ?? owner * KILL_ROUND_IDS;
    if (id !== next) violation(`record at ${record.position} is id ${id}, expected ${next}: a hole or reordering`);
    expected.set(owner, id + 1);
  }
  const reached = (expected.get(round) ?? round * KILL_ROUND_IDS) - 1;
  if (reached < lastAcked) violation(`round ${round}: ids through ${lastAcked} were acknowledged but the log ends at ${reached}`);
}

/** The state equals the one after some prefix of this round's puts that reaches the last acknowledged one. */
function checkKv(state: ReadonlyMap<string, Uint8Array>, round: number, lastAcked: number): void {
  const first = round * KILL_ROUND_IDS;
  let newest = -1;
  for (const value of state.values()) newest = Math.max(newest, payloadId(value) ?? -1);
  if (newest < lastAcked) violation(`round ${round}: puts through id ${lastAcked} were acknowledged but the newest value is id ${newest}`);
  for (let key = 0; key < KILL_KEYS; key++) {
    // The latest put of this key at or before the newest surviving put; earlier rounds' keys were checked then.
    const id = newest - ((((newest - key) % KILL_KEYS) + KILL_KEYS) % KILL_KEYS);
    if (id < first) continue;
    const found = state.get(`k${key}`);
    if (found === undefined || !sameBytes(found, makePayload(id, killRecordBytes(id)))) {
      violation(`k${key} should hold id ${id} after a prefix through ${newest}, got ${found === undefined ? 'nothing' : payloadId(found)}`);
    }
  }
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, i) => byte === right[i]);
}
