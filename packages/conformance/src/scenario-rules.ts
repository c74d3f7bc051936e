import { FRAME_OVERHEAD_BYTES, isKeelError, savedTailPath, type RecoveryReport } from '@keel/core';
import type { CrashEffects } from './crash.js';
import type { Fault, FaultKind } from './faults.js';
import { violation } from './violation.js';

/**
 * Faults whose crash state may hold a hole before later data, or damage, which a correct
 * store can only refuse (KEEL_CORRUPT with an offset, files untouched); salvage must then
 * still return every acknowledged record. After a failed fsync the dropped pages leave
 * such a hole when a write lands before the store learns of the failure.
 */
export const REFUSAL_ALLOWED: ReadonlySet<FaultKind> = new Set([
  'filled-tail',
  'torn-write',
  'reordered-writes',
  'stale-tail',
  'bit-flip',
  'misdirected-write',
  'fsync-failure',
  'io-error',
  'lost-write',
  'misplaced-write',
]);
/**
 * Operations of acknowledged data that damage may take with it (reported, never silent):
 * a bit flip spoils one record; a misdirected write as many as its bytes can touch.
 */
export function damageAllowance(fault: Fault): number {
  if (fault.kind === 'bit-flip') return 1;
  if (fault.kind !== 'misdirected-write') return 0;
  const damage = fault.crash.damage;
  return 1 + Math.ceil((damage?.kind === 'misdirect' ? damage.length : 1) / FRAME_OVERHEAD_BYTES);
}

/** The disk reached an armed crash point while the suite was reading: the caller crashes. */
export class DiskFrozen extends Error {}

/** A read after open refused damage with KEEL_CORRUPT and an offset, as invariant 3 asks. */
export class CorruptionReported extends Error {}

export function firedBy(kind: FaultKind, effects: CrashEffects): boolean {
  if (kind === 'lost-entries') return effects.entriesLost;
  if (kind === 'bit-flip' || kind === 'misdirected-write' || kind === 'derived-damage') return effects.damagedPath !== null;
  return effects.dataChanged;
}

export function assertUntouched(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): void {
  for (const [path, bytes] of before) {
    const now = after.get(path);
    if (now === undefined) violation(`a refused open removed ${path}`);
    if (now.length !== bytes.length || now.some((byte, i) => byte !== bytes[i])) violation(`a refused open modified ${path}`);
  }
  for (const path of after.keys()) if (!before.has(path)) violation(`a refused open created ${path}`);
}

/**
 * Every tail a recovery says it saved holds exactly the bytes it cut: those of the file
 * before the open, from the action's offset, for the action's byte count.
 */
export function assertSavedTails(report: RecoveryReport, before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): void {
  for (const action of report.actions) {
    if (action.kind !== 'saved-tail') continue;
    const offset = action.offset ?? 0;
    const marker = savedTailPath('', offset);
    const source = action.path.slice(0, action.path.lastIndexOf(marker));
    const original = before.get(source);
    const saved = after.get(action.path);
    if (original === undefined || saved === undefined) violation(`recovery reports a saved tail ${action.path} of ${source}, but one of them does not exist`);
    const expected = original.subarray(offset, offset + (action.bytes ?? 0));
    if (saved.length !== expected.length || saved.some((byte, i) => byte !== expected[i])) {
      violation(`saved tail ${action.path} does not hold the ${expected.length} bytes cut from ${source} at ${offset}`);
    }
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Lets every queued microtask and promise continuation run (no timers involved). */
export function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function describeError(error: unknown): string {
  if (isKeelError(error)) return `${error.code} ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
