import type { RecoveryAction } from '@keel/core';
import type { BackendAdapter } from './adapter.js';
import type { CrashSpec, Fault } from './faults.js';
import { ScenarioRun } from './runner.js';
import { protocolsOf, type RecoveryCrash, type Scenario, type Step } from './scenario.js';
import { smallWorkload } from './small-workload.js';
import { ConformanceViolation } from './violation.js';

/** What a recovery does that is repair, not just loading: what a crash in the middle of it can leave half done. */
const REPAIR_ACTIONS: ReadonlySet<RecoveryAction['kind']> = new Set([
  'saved-tail',
  'truncated-tail',
  'rebuilt-index',
  'removed-temporary',
  'ignored-snapshot',
  'removed-file',
  'completed-switch',
]);
/** Seeds tried for a torn tail or a damaged derived file until one leaves a recovery repair work. */
const SETUP_SEEDS_MAX = 16;
/** The disk operations of a sync a torn-tail crash is tried at (the write and the datasync of a buffering store among them). */
const TORN_SYNC_POINTS = 3;
/** Crash points of a protocol tried for repair states, at most (a protocol past this many operations is cut short). */
const PROTOCOL_MUTATIONS_MAX = 64;
/**
 * The second recovery is crashed at this many of its disk operations, spread evenly over
 * them (the first and the last always among them); every one when it has no more.
 */
export const SECOND_RECOVERY_POINTS_MAX = 4;

/** How a crash during the first recovery leaves the disk: a process crash keeps everything; a power cut keeps only what was synced. */
const FIRST_RECOVERY_CRASHES: readonly CrashSpec[] = [
  { seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' },
  { seed: 2, data: { mode: 'lose-all' }, entries: 'lose-all' },
  { seed: 3, data: { mode: 'byte-prefix' }, entries: 'subset' },
];
const PROCESS_CRASH = FIRST_RECOVERY_CRASHES[0] as CrashSpec;
const TAIL_WRITE: Step = { type: 'write', size: 40, key: 1, remove: false };
const POWER_CUT = FIRST_RECOVERY_CRASHES[1] as CrashSpec;

/** A crash state whose open has repair to do, and the scenario that leaves it. */
export interface RepairSetup {
  readonly name: string;
  readonly scenario: Scenario;
  /** Disk operations the recovery from it makes when nothing crashes it. */
  readonly recoveryMutations: number;
  /** What that recovery does (its repair actions). */
  readonly repairs: readonly string[];
}

export interface RecoveryCrashSummary {
  setups: RepairSetup[];
  /** Crash states recovered from (each a full scenario run). */
  states: number;
}

/**
 * Every repair a backend's open can be asked to do, found through the adapter alone:
 * a torn tail to cut and save; each protocol (roll, seal, compact, snapshot, retention)
 * crashed at each of its disk operations, by a process crash and by a power cut, kept
 * where the recovery from it repairs something (one crash point per kind of repair); and,
 * with derived files, each way of damaging one (an index to rebuild, a snapshot to ignore).
 */
export async function repairSetups(adapter: BackendAdapter): Promise<RepairSetup[]> {
  const steps = smallWorkload(adapter);
  const scenarioOf = (fault: Fault): Scenario => ({ durability: 'explicit', steps, fault, tail: [] });
  const setups: RepairSetup[] = [];
  const tornTail = await tornTailSetup(adapter, steps);
  if (tornTail !== null) setups.push(tornTail);
  const seen = new Set<string>();
  const protocols = protocolNames(adapter);
  for (const [choice, protocol] of protocols.entries()) {
    for (const crash of [PROCESS_CRASH, POWER_CUT]) {
      for (let mutation = 1; mutation <= PROTOCOL_MUTATIONS_MAX; mutation++) {
        const scenario = scenarioOf({ kind: 'protocol-crash-point', mutation, choice, crash });
        const dry = await dryRun(adapter, scenario, `${protocol} crashed before its disk operation ${mutation}`);
        if (!dry.fired) break;
        const repairs = repairsOf(dry.run);
        const signature = `${protocol}: ${repairs.join(', ')}`;
        if (repairs.length === 0 || seen.has(signature)) continue;
        seen.add(signature);
        const name = `${protocol} crashed before its disk operation ${mutation} (${crash === PROCESS_CRASH ? 'process crash' : 'power cut'})`;
        setups.push({ name, scenario, recoveryMutations: dry.run.recoveryMutations[0] ?? 0, repairs });
      }
    }
  }
  if (adapter.supports.derivedFiles && adapter.isDerivedFile) {
    for (const action of ['delete', 'truncate', 'flip'] as const) {
      const setup = await firstRepairing(adapter, `derived file damaged (${action})`, (seed) =>
        scenarioOf({ kind: 'derived-damage', crash: { seed, data: { mode: 'keep-all' }, entries: 'keep-all', damage: { kind: 'derived', action } } }),
      );
      if (setup !== null) setups.push(setup);
    }
  }
  return setups;
}

/** The protocols a protocol crash chooses between, in its order: close + open stands in when there are none. */
function protocolNames(adapter: BackendAdapter): string[] {
  const names: string[] = protocolsOf(adapter);
  if (adapter.kind === 'log' && adapter.supports.retention && adapter.deleteBefore) names.push('retention');
  return names.length === 0 ? ['close and open'] : names;
}

/**
 * A torn tail: one more write left unsynced and torn at a byte by the crash. A store
 * that buffers writes until a sync (the journal) hands them to the disk only inside the
 * sync, so for it the crash lands at one of the sync's first disk operations instead.
 * The first seed (and crash point) that leaves a tail to cut.
 */
async function tornTailSetup(adapter: BackendAdapter, steps: readonly Step[]): Promise<RepairSetup | null> {
  const tornAt = (seed: number): Fault => ({ kind: 'torn-write', crash: { seed, data: { mode: 'torn', granularity: 1 }, entries: 'keep-all' } });
  const unsynced = await firstRepairing(adapter, 'torn tail', (seed) => ({ durability: 'explicit', steps, fault: tornAt(seed), tail: [] }), 'truncated-tail');
  if (unsynced !== null) return unsynced;
  const withTail: Step[] = [...steps, TAIL_WRITE];
  const dry = await dryRun(adapter, { durability: 'explicit', steps: withTail, fault: { kind: 'dropped-unsynced', crash: PROCESS_CRASH }, tail: [] }, 'torn tail: the workload before the sync');
  const before = dry.run.mutationsBeforeFault;
  for (let point = before + 1; point <= before + TORN_SYNC_POINTS; point++) {
    const scenarioFor = (seed: number): Scenario => ({ durability: 'explicit', steps: [...withTail, { type: 'sync' }], fault: tornAt(seed), tail: [], crashAtMutation: point });
    const setup = await firstRepairing(adapter, `torn tail (the sync crashed before disk operation ${point})`, scenarioFor, 'truncated-tail');
    if (setup !== null) return setup;
  }
  return null;
}

/** The first seed whose crash leaves a recovery with repair work (of the `wanted` kind, when given). */
async function firstRepairing(adapter: BackendAdapter, name: string, scenarioFor: (seed: number) => Scenario, wanted?: RecoveryAction['kind']): Promise<RepairSetup | null> {
  for (let seed = 1; seed <= SETUP_SEEDS_MAX; seed++) {
    const scenario = scenarioFor(seed);
    const dry = await dryRun(adapter, scenario, `${name}, seed ${seed}`);
    const repairs = repairsOf(dry.run);
    if (repairs.length > 0 && (wanted === undefined || repairs.includes(wanted))) return { name, scenario, recoveryMutations: dry.run.recoveryMutations[0] ?? 0, repairs };
  }
  return null;
}

function repairsOf(run: ScenarioRun): string[] {
  const kinds = (run.firstRecoveryActions ?? []).map((action) => action.kind).filter((kind) => REPAIR_ACTIONS.has(kind));
  return [...new Set(kinds)].sort();
}

async function dryRun(adapter: BackendAdapter, scenario: Scenario, state: string): Promise<{ run: ScenarioRun; fired: boolean }> {
  const run = new ScenarioRun(adapter, scenario);
  const { fired } = await runState(run, state, scenario);
  return { run, fired };
}

/** Runs one crash state; a violation names the state and carries the scenario that replays it. */
async function runState(run: ScenarioRun, state: string, scenario: Scenario): Promise<{ fired: boolean }> {
  try {
    return await run.run();
  } catch (error) {
    if (error instanceof ConformanceViolation) {
      throw new ConformanceViolation(`${state}: ${error.message}\nReplay: await new ScenarioRun(adapter, ${JSON.stringify(scenario)}).run()`);
    }
    throw error;
  }
}

/** Up to `most` of the points 1..count, spread evenly, the first and the last among them. */
export function spreadPoints(count: number, most: number): number[] {
  if (count <= most) return Array.from({ length: count }, (_, index) => index + 1);
  const points = new Set<number>();
  for (let index = 0; index < most; index++) points.add(1 + Math.round((index * (count - 1)) / (most - 1)));
  return [...points];
}

/**
 * Crashes during recovery, repeatedly (FoundationDB's and ALICE's point: a repair must be
 * as crash-safe as the operation it repairs). For each repair setup, the recovery is
 * crashed before every one of its disk operations — by a process crash, a power cut, and
 * a power cut that keeps a random part of what was pending — and the recovery after that
 * is itself crashed at several of its operations; then the store opens a third time. Every
 * recovery is checked as usual: nothing acknowledged lost, nothing corrupt returned, what
 * is there a prefix; and the closing check of every run proves recovery idempotent and the
 * store writable. A violation names the setup, both crash points and the scenario.
 */
export async function runRecoveryCrashes(adapter: BackendAdapter): Promise<RecoveryCrashSummary> {
  const setups = await repairSetups(adapter);
  let states = 0;
  for (const setup of setups) {
    for (let first = 1; first <= setup.recoveryMutations; first++) {
      for (const firstCrash of FIRST_RECOVERY_CRASHES) {
        const once: RecoveryCrash[] = [{ mutation: first, crash: firstCrash }];
        const label = `${setup.name}: recovery crashed before its disk operation ${first} (${firstCrash.data.mode}/${String(firstCrash.entries)})`;
        const run = new ScenarioRun(adapter, { ...setup.scenario, recoveryCrashes: once });
        await runState(run, label, { ...setup.scenario, recoveryCrashes: once });
        states++;
        const secondMutations = run.recoveryMutations[1] ?? 0;
        for (const second of spreadPoints(secondMutations, SECOND_RECOVERY_POINTS_MAX)) {
          // A power cut after a process crash and the other way round: each leaves the other's half-done repair behind.
          const secondCrash = firstCrash === PROCESS_CRASH ? POWER_CUT : PROCESS_CRASH;
          const twice: RecoveryCrash[] = [...once, { mutation: second, crash: secondCrash }];
          await runState(new ScenarioRun(adapter, { ...setup.scenario, recoveryCrashes: twice }), `${label}, then the next recovery before its operation ${second}`, {
            ...setup.scenario,
            recoveryCrashes: twice,
          });
          states++;
        }
      }
    }
  }
  return { setups, states };
}
