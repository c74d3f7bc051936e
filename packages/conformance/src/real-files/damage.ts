import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeelError } from '@keel/core';
import type { BackendAdapter } from '../adapter.js';
import { violation } from '../violation.js';
import { isCorruptWithOffset, matchDamaged, modelFor, openOnDisk, reportsDamage, writeRecord } from './store-driver.js';
import type { Model } from '../model.js';

export interface FileDamageOptions {
  /** Records written before the damage (default 4). */
  records?: number;
  /** Bits are flipped in the first this-many bytes of each file (default: all of a small file, at most 96). */
  flipBytesMax?: number;
}

export interface FileDamageSummary {
  /** Damaged copies opened. */
  cases: number;
  opened: number;
  /** Refused with KEEL_CORRUPT and an offset, files left byte for byte as they were. */
  refused: number;
}

type Files = Map<string, Uint8Array>;
interface Damage {
  /** A truncation at a record boundary is a valid shorter store; other damage must be reported. */
  silentLossAllowed: boolean;
  apply(bytes: Uint8Array): Uint8Array;
}

const RECORDS_DEFAULT = 3;
const FLIP_BYTES_MAX_DEFAULT = 96;

/**
 * On real files through the native Io: writes a small store, then for every file that
 * is not derived truncates it at every offset, zero-fills its tail from every offset and
 * flips every bit (of its first `flipBytesMax` bytes), opening a fresh copy each time.
 * Every open must either refuse with KEEL_CORRUPT and an offset, leaving the files as
 * they were, or return a prefix of what was written (reporting any loss but a cut at a
 * record boundary). Recovery's idempotence is the FaultFs suite's to check.
 */
export async function runFileDamage(adapter: BackendAdapter, options: FileDamageOptions = {}): Promise<FileDamageSummary> {
  const root = mkdtempSync(join(tmpdir(), 'keel-conformance-'));
  const dir = join(root, 'store');
  try {
    const model = modelFor(adapter);
    const store = await openOnDisk(adapter, dir);
    for (let i = 0; i < (options.records ?? RECORDS_DEFAULT); i++) writeRecord(adapter, store, model, 4 + i);
    await adapter.sync(store);
    await adapter.close(store);
    const pristine = readFiles(dir);
    const summary: FileDamageSummary = { cases: 0, opened: 0, refused: 0 };
    for (const [name, bytes] of pristine) {
      if (bytes.length === 0 || adapter.isDerivedFile?.(join(dir, name))) continue;
      for (const damage of damagesOf(bytes, options.flipBytesMax ?? FLIP_BYTES_MAX_DEFAULT)) {
        const damaged = new Map(pristine);
        damaged.set(name, damage.apply(bytes));
        writeFiles(dir, damaged);
        await openDamaged(adapter, dir, model, name, damage.silentLossAllowed, summary);
      }
    }
    return summary;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function* damagesOf(bytes: Uint8Array, flipBytesMax: number): Generator<Damage> {
  for (let offset = 0; offset < bytes.length; offset++) {
    yield { silentLossAllowed: true, apply: (original) => original.slice(0, offset) };
    yield {
      silentLossAllowed: false,
      apply: (original) => {
        const copy = original.slice();
        copy.fill(0, offset);
        return copy;
      },
    };
  }
  for (let bit = 0; bit < Math.min(bytes.length, flipBytesMax) * 8; bit++) {
    yield {
      silentLossAllowed: false,
      apply: (original) => {
        const copy = original.slice();
        copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
        return copy;
      },
    };
  }
}

async function openDamaged(adapter: BackendAdapter, dir: string, model: Model, name: string, silentLossAllowed: boolean, summary: FileDamageSummary): Promise<void> {
  summary.cases++;
  const before = readFiles(dir);
  let store: unknown;
  try {
    store = await openOnDisk(adapter, dir);
  } catch (error) {
    if (!isCorruptWithOffset(error)) violation(`${name} damaged: open failed with ${isKeelError(error) ? error.code : String(error)} (want KEEL_CORRUPT with an offset)`);
    assertSameFiles(before, readFiles(dir), name);
    summary.refused++;
    return;
  }
  summary.opened++;
  try {
    const kept = await readOrReported(adapter, store, model);
    if (kept === null) return;
    if (kept < model.size && !silentLossAllowed && !reportsDamage(adapter.recovery(store))) violation(`${name} damaged: ${model.size - kept} records lost without a word in the recovery report`);
  } finally {
    await adapter.close(store).catch(() => undefined);
  }
}

/** The records that survived, or null when a read refused the damage (KEEL_CORRUPT with an offset). */
async function readOrReported(adapter: BackendAdapter, store: unknown, model: Model): Promise<number | null> {
  try {
    return await matchDamaged(adapter, store, model);
  } catch (error) {
    if (isCorruptWithOffset(error)) return null;
    throw error;
  }
}

function readFiles(dir: string): Files {
  const files: Files = new Map();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) files.set(name, new Uint8Array(readFileSync(path)));
  }
  return files;
}

/** Makes `dir` hold exactly `files` (recovery may have added saved tails or removed files). */
function writeFiles(dir: string, files: Files): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (!files.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

function assertSameFiles(before: Files, after: Files, name: string): void {
  for (const [file, bytes] of before) {
    const now = after.get(file);
    if (now === undefined || Buffer.compare(Buffer.from(now), Buffer.from(bytes)) !== 0) violation(`${name} damaged: a refused open changed ${file}`);
  }
}
