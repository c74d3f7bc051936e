import fc from 'fast-check';
import type { BackendAdapter, ProtocolName } from './adapter.js';
import { anyFault, dataLoss, entryLoss, plainCrash, type CrashSpec, type Fault, type FaultKind } from './faults.js';

/** Record and value sizes stay small so one scenario takes milliseconds. */
export const RECORD_BYTES_MAX = 48;
export const BATCH_RECORDS_MAX = 4;
export const KV_KEYS = ['a', 'b', 'c', 'd'] as const;

export type Step =
  | { readonly type: 'write'; readonly size: number; readonly key: number; readonly remove: boolean }
  | { readonly type: 'batch'; readonly sizes: readonly number[]; readonly keys: readonly number[]; readonly removes: readonly boolean[] }
  | { readonly type: 'sync' }
  | { readonly type: 'reopen' }
  | { readonly type: 'protocol'; readonly name: ProtocolName }
  | { readonly type: 'retention'; readonly fraction: number }
  | { readonly type: 'crash'; readonly crash: CrashSpec }
  /**
   * The process dies, the machine does not: the page cache keeps everything written, and
   * the store is opened again. `inSync`: it dies inside a sync, after the sync's writes
   * and before its fdatasync (what a store buffers reaches the page cache only there).
   */
  | { readonly type: 'process-crash'; readonly inSync: boolean };

export interface Scenario {
  /** every-n flushes on its own after 3 writes; none never syncs on close. */
  readonly durability: 'explicit' | 'every-write' | 'every-n' | 'none';
  /** Operations before the fault, with plain crashes among them. */
  readonly steps: readonly Step[];
  /** The fault this scenario is about. */
  readonly fault: Fault;
  /** Operations after the fault is armed (injections run through these). */
  readonly tail: readonly Step[];
  /** Freeze the disk at this mutation counted from the start (exhaustive crash points). */
  readonly crashAtMutation?: number;
  /**
   * Crashes during the recoveries after the fault, in order: the first recovery's open is
   * frozen before its `mutation`-th disk operation and the disk crashed with `crash`, the
   * next recovery is crashed by the second entry, and so on; the recovery after the last
   * entry runs to the end (crashes during recovery, repeatedly).
   */
  readonly recoveryCrashes?: readonly RecoveryCrash[];
  /**
   * Arm the fault's injection (faults 9 and 10) or write fate (16 and 17) before the
   * store's first open instead of after the steps, so that it can hit the store's
   * creation too.
   */
  readonly armedFromStart?: boolean;
}

/** One crash inside a recovery: where its open freezes, and what the crash leaves. */
export interface RecoveryCrash {
  readonly mutation: number;
  readonly crash: CrashSpec;
}

export function protocolsOf(adapter: BackendAdapter): ProtocolName[] {
  return (Object.keys(adapter.protocols ?? {}) as ProtocolName[]).sort();
}

/** The fault kinds that can do something to this backend. */
export function applicableFaults(adapter: BackendAdapter): FaultKind[] {
  const protocols = protocolsOf(adapter);
  const kinds: FaultKind[] = [
    'dropped-unsynced',
    'filled-tail',
    'torn-write',
    'reordered-writes',
    'lost-entries',
    'protocol-crash-point',
    'bit-flip',
    'misdirected-write',
    'fsync-failure',
    'io-error',
    'group-commit-crash',
    'recovery-crash',
  ];
  // A stale whole frame in a key-value store whose frames carry no position replays an
  // old operation: undetectable, and the key-value model has no allowance for it.
  if (adapter.kind === 'log' || !adapter.supports.positionFreeFrames) kinds.push('stale-tail');
  kinds.push('lost-write');
  // A misplaced whole frame is as undetectable there, for the same reason.
  if (adapter.kind === 'log' || !(adapter.supports.positionFreeFrames || adapter.supports.misplacedFramesUndetectable)) kinds.push('misplaced-write');
  if (adapter.kind === 'kv' && (protocols.includes('compact') || protocols.includes('snapshot'))) kinds.push('kv-maintenance-crash');
  if (adapter.supports.derivedFiles && adapter.isDerivedFile) kinds.push('derived-damage');
  return kinds;
}

function stepArbitrary(adapter: BackendAdapter, withCrashes: boolean): fc.Arbitrary<Step> {
  const size = fc.integer({ min: 0, max: RECORD_BYTES_MAX });
  const key = fc.integer({ min: 0, max: KV_KEYS.length - 1 });
  const remove = adapter.kind === 'kv' ? fc.boolean() : fc.constant(false);
  const options: fc.WeightedArbitrary<Step>[] = [
    { weight: 6, arbitrary: fc.record({ type: fc.constant('write' as const), size, key, remove }) },
    { weight: 3, arbitrary: fc.constant({ type: 'sync' as const }) },
    { weight: 1, arbitrary: fc.constant({ type: 'reopen' as const }) },
  ];
  if (adapter.supports.batch) {
    const batch = fc.array(fc.tuple(size, key, remove), { minLength: 1, maxLength: BATCH_RECORDS_MAX }).map(
      (items): Step => ({ type: 'batch', sizes: items.map((item) => item[0]), keys: items.map((item) => item[1]), removes: items.map((item) => item[2]) }),
    );
    options.push({ weight: 2, arbitrary: batch });
  }
  const protocols = protocolsOf(adapter);
  if (protocols.length > 0) {
    options.push({ weight: 2, arbitrary: fc.constantFrom(...protocols).map((name): Step => ({ type: 'protocol', name })) });
  }
  if (adapter.kind === 'log' && adapter.supports.retention && adapter.deleteBefore) {
    options.push({ weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((fraction): Step => ({ type: 'retention', fraction })) });
  }
  if (withCrashes) {
    options.push({ weight: 1, arbitrary: midCrash.map((crash): Step => ({ type: 'crash', crash })) });
    options.push({ weight: 1, arbitrary: fc.boolean().map((inSync): Step => ({ type: 'process-crash', inSync })) });
  }
  return fc.oneof(...options);
}

/** Crashes between operations: any data loss combined with any entry loss (faults 1–5 together). */
const midCrash: fc.Arbitrary<CrashSpec> = fc.oneof(
  { weight: 2, arbitrary: plainCrash },
  { weight: 1, arbitrary: fc.record({ seed: fc.integer({ min: 0, max: 0x7fff_ffff }), data: dataLoss, entries: entryLoss }) },
);

export function scenarioArbitrary(adapter: BackendAdapter, kinds: readonly FaultKind[] = applicableFaults(adapter)): fc.Arbitrary<Scenario> {
  return fc.record({
    durability: fc.constantFrom<Scenario['durability']>(...durabilityModes(adapter)),
    steps: fc.array(stepArbitrary(adapter, true), { minLength: 1, maxLength: 14 }),
    fault: anyFault(kinds),
    tail: fc.array(stepArbitrary(adapter, false), { minLength: 1, maxLength: 6 }),
  });
}

/**
 * The durability modes scenarios run under. 'none' joins them when the adapter says the
 * backend is ready for it (`supports.durabilityNone`) or KEEL_CONFORMANCE_DURABILITY_NONE
 * is set: a store opened under 'none' must still tell the truth in sync().
 */
function durabilityModes(adapter: BackendAdapter): Scenario['durability'][] {
  const modes: Scenario['durability'][] = ['explicit', 'every-n'];
  if (adapter.supports.everyWrite) modes.push('every-write');
  if (adapter.supports.durabilityNone || process.env.KEEL_CONFORMANCE_DURABILITY_NONE) modes.push('none');
  return modes;
}
