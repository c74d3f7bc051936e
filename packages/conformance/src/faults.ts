import fc from 'fast-check';
import type { CrashPlan, DataLoss, Damage, EntryLoss } from './crash.js';
import type { Injection } from './fault-fs.js';

/** The seventeen fault kinds of the crash model, numbered as in the issue. */
export const FAULT_KINDS = [
  'dropped-unsynced', // 1
  'filled-tail', // 2
  'torn-write', // 3
  'reordered-writes', // 4
  'lost-entries', // 5
  'protocol-crash-point', // 6
  'bit-flip', // 7
  'misdirected-write', // 8
  'fsync-failure', // 9
  'io-error', // 10
  'group-commit-crash', // 11
  'kv-maintenance-crash', // 12
  'derived-damage', // 13
  'recovery-crash', // 14
  'stale-tail', // 15
  'lost-write', // 16
  'misplaced-write', // 17
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** A crash plan without the backend-specific `isDerived` (the runner adds it). */
export type CrashSpec = Omit<CrashPlan, 'isDerived'>;

export type Fault =
  /** Faults 1–5, 7, 8, 13, 15: a crash now, with this plan. */
  | { readonly kind: 'dropped-unsynced' | 'filled-tail' | 'torn-write' | 'reordered-writes' | 'stale-tail'; readonly crash: CrashSpec }
  /** Fault 5: a crash at the `mutation`-th disk operation from the start (between a create and its syncDir, say), entries lost. */
  | { readonly kind: 'lost-entries'; readonly mutation: number; readonly crash: CrashSpec }
  | { readonly kind: 'bit-flip' | 'misdirected-write' | 'derived-damage'; readonly crash: CrashSpec }
  /** Faults 6 and 12: a crash at the `mutation`-th disk operation of a protocol, then `crash`. */
  | { readonly kind: 'protocol-crash-point' | 'kv-maintenance-crash'; readonly mutation: number; readonly choice: number; readonly crash: CrashSpec }
  /** Faults 9 and 10: an injected failure, a few more operations, then a crash. */
  | { readonly kind: 'fsync-failure' | 'io-error'; readonly injection: Injection; readonly crash: CrashSpec }
  /** Fault 11: `writers` concurrent writers wait on held syncs; `released` complete; crash (with a bit flip, or not). */
  | { readonly kind: 'group-commit-crash'; readonly writers: number; readonly released: number; readonly crash: CrashSpec }
  /** Fault 14: a crash, then a crash at the `mutation`-th operation of the recovery, then `crash`. */
  | { readonly kind: 'recovery-crash'; readonly first: CrashSpec; readonly mutation: number; readonly crash: CrashSpec }
  /**
   * Faults 16 and 17: the `nth` write from here on is acknowledged (and synced) but lost,
   * or stored at another offset of its file chosen from `seed`; the tail and a sync run,
   * then a crash that keeps everything else (see WriteFate).
   */
  | { readonly kind: 'lost-write' | 'misplaced-write'; readonly nth: number; readonly seed: number; readonly crash: CrashSpec };

const seed = fc.integer({ min: 0, max: 0x7fff_ffff });

/** Losses a real kernel leaves after a power cut with no damage: the base of compound faults. */
export const plainDataLoss: fc.Arbitrary<DataLoss> = fc.constantFrom<DataLoss>({ mode: 'keep-all' }, { mode: 'lose-all' }, { mode: 'byte-prefix' });

export const dataLoss: fc.Arbitrary<DataLoss> = fc.oneof(
  plainDataLoss,
  fc.constantFrom<DataLoss>({ mode: 'fill', fill: 'zero' }, { mode: 'fill', fill: 'garbage' }, { mode: 'subset' }),
  fc.constantFrom(1, 512, 4096).map((granularity): DataLoss => ({ mode: 'torn', granularity })),
);

export const entryLoss: fc.Arbitrary<EntryLoss> = fc.constantFrom<EntryLoss>('keep-all', 'lose-all', 'subset');

export const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant<Damage>({ kind: 'bit-flip' }),
  fc.integer({ min: 1, max: 24 }).map((length): Damage => ({ kind: 'misdirect', length })),
  fc.constantFrom<'delete' | 'flip' | 'truncate'>('delete', 'flip', 'truncate').map((action): Damage => ({ kind: 'derived', action })),
);

/** Any combination of data loss, entry loss and damage: faults combined. */
export const combinedCrash: fc.Arbitrary<CrashSpec> = fc.record(
  { seed, data: dataLoss, entries: entryLoss, damage },
  { requiredKeys: ['seed', 'data', 'entries'] },
);

/** A crash that loses unsynced data the way a clean power cut does, entries kept. */
export const plainCrash: fc.Arbitrary<CrashSpec> = fc.record({ seed, data: plainDataLoss, entries: fc.constant<EntryLoss>('keep-all') });

/**
 * A power cut, then a bit flip in durable bytes. Beside held syncs (fault 11) it lands in
 * the window between a flush's acknowledgement and the work a store leaves for after it
 * (a sealed segment's index, a rename): damage there must be told from a torn tail.
 */
const bitFlipCrash: fc.Arbitrary<CrashSpec> = crashWith(plainDataLoss, fc.constant('keep-all'), fc.constant<Damage>({ kind: 'bit-flip' }));

function crashWith(data: fc.Arbitrary<DataLoss>, entries: fc.Arbitrary<EntryLoss>, extra?: fc.Arbitrary<Damage>): fc.Arbitrary<CrashSpec> {
  if (extra === undefined) return fc.record({ seed, data, entries });
  return fc.record({ seed, data, entries, damage: extra });
}

const injection = (operation: fc.Arbitrary<Injection['operation']>, errno: fc.Arbitrary<Injection['errno']>): fc.Arbitrary<Injection> =>
  fc.record({
    operation,
    nth: fc.integer({ min: 1, max: 4 }),
    errno,
    short: fc.boolean(),
    persistent: fc.boolean(),
  });

/** The writes a fate may hit are those of a short tail and its final sync: the first few. */
const WRITE_FATE_NTH_MAX = 6;

/** Faults 16 and 17: everything but the one write reaches the disk, so the damage is that write's alone. */
function writeFate(kind: 'lost-write' | 'misplaced-write'): fc.Arbitrary<Fault> {
  return fc
    .record({ nth: fc.integer({ min: 1, max: WRITE_FATE_NTH_MAX }), seed })
    .map(({ nth, seed: chosen }) => ({ kind, nth, seed: chosen, crash: { seed: chosen, data: { mode: 'keep-all' }, entries: 'keep-all' } }));
}

/** One arbitrary per fault kind. */
export const faultArbitraries: { readonly [K in FaultKind]: fc.Arbitrary<Fault> } = {
  'dropped-unsynced': crashWith(fc.constant<DataLoss>({ mode: 'byte-prefix' }), fc.constant('keep-all')).map((crash) => ({ kind: 'dropped-unsynced', crash })),
  'filled-tail': crashWith(fc.constantFrom<DataLoss>({ mode: 'fill', fill: 'zero' }, { mode: 'fill', fill: 'garbage' }), fc.constant('keep-all')).map((crash) => ({
    kind: 'filled-tail',
    crash,
  })),
  'torn-write': crashWith(
    fc.constantFrom(1, 512, 4096).map((granularity): DataLoss => ({ mode: 'torn', granularity })),
    fc.constant('keep-all'),
  ).map((crash) => ({ kind: 'torn-write', crash })),
  'reordered-writes': crashWith(fc.constant<DataLoss>({ mode: 'subset' }), fc.constant('keep-all')).map((crash) => ({ kind: 'reordered-writes', crash })),
  'stale-tail': crashWith(fc.constant<DataLoss>({ mode: 'stale' }), fc.constant('keep-all')).map((crash) => ({ kind: 'stale-tail', crash })),
  'lost-entries': fc
    // Early crash points are favoured: a store's first open creates its files and syncs the directory.
    .record({ mutation: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 24 })), crash: crashWith(plainDataLoss, fc.constantFrom<EntryLoss>('lose-all', 'lose-all', 'subset')) })
    .map(({ mutation, crash }) => ({ kind: 'lost-entries', mutation, crash })),
  'protocol-crash-point': fc
    // Entry operations of a protocol (renames, unlinks) may reach the disk in any subset.
    .record({ mutation: fc.integer({ min: 1, max: 12 }), choice: fc.nat(), crash: crashWith(plainDataLoss, entryLoss) })
    .map(({ mutation, choice, crash }) => ({ kind: 'protocol-crash-point', mutation, choice, crash })),
  'bit-flip': bitFlipCrash.map((crash) => ({ kind: 'bit-flip', crash })),
  'misdirected-write': crashWith(
    plainDataLoss,
    fc.constant('keep-all'),
    fc.integer({ min: 1, max: 24 }).map((length): Damage => ({ kind: 'misdirect', length })),
  ).map((crash) => ({ kind: 'misdirected-write', crash })),
  'fsync-failure': fc
    .record({ nth: fc.integer({ min: 1, max: 3 }), crash: plainCrash })
    .map(({ nth, crash }) => ({ kind: 'fsync-failure', injection: { operation: 'sync', nth, errno: 'EIO', persistent: false }, crash })),
  'io-error': fc
    .record({ injection: injection(fc.constantFrom('write', 'sync', 'read', 'open'), fc.constantFrom('EIO', 'ENOSPC')), crash: plainCrash })
    .map(({ injection: chosen, crash }) => ({ kind: 'io-error', injection: chosen, crash })),
  'group-commit-crash': fc
    .record({ writers: fc.integer({ min: 2, max: 12 }), released: fc.integer({ min: 0, max: 2 }), crash: fc.oneof({ weight: 2, arbitrary: plainCrash }, { weight: 1, arbitrary: bitFlipCrash }) })
    .map(({ writers, released, crash }) => ({ kind: 'group-commit-crash', writers, released, crash })),
  'kv-maintenance-crash': fc
    .record({ mutation: fc.integer({ min: 1, max: 12 }), choice: fc.nat(), crash: plainCrash })
    .map(({ mutation, choice, crash }) => ({ kind: 'kv-maintenance-crash', mutation, choice, crash })),
  'derived-damage': crashWith(
    plainDataLoss,
    fc.constant('keep-all'),
    fc.constantFrom<'delete' | 'flip' | 'truncate'>('delete', 'flip', 'truncate').map((action): Damage => ({ kind: 'derived', action })),
  ).map((crash) => ({ kind: 'derived-damage', crash })),
  'lost-write': writeFate('lost-write'),
  'misplaced-write': writeFate('misplaced-write'),
  'recovery-crash': fc
    .record({
      first: crashWith(fc.constantFrom<DataLoss>({ mode: 'byte-prefix' }, { mode: 'torn', granularity: 1 }), fc.constant('keep-all')),
      mutation: fc.integer({ min: 1, max: 8 }),
      crash: plainCrash,
    })
    .map(({ first, mutation, crash }) => ({ kind: 'recovery-crash', first, mutation, crash })),
};

/** Any of `kinds`, equally likely. */
export function anyFault(kinds: readonly FaultKind[] = FAULT_KINDS): fc.Arbitrary<Fault> {
  return fc.oneof(...kinds.map((kind) => faultArbitraries[kind]));
}
