export { FaultFs, type Injection, type InjectionTarget, type FailedOperationClass, type IoOperationClass, type CrashResult, type WriteFate } from './fault-fs.js';
export { runWriteFates, MISPLACED_SEEDS, type WriteFateSummary } from './write-fate-family.js';
export { touchedOperations, ANCHOR_BYTES_MIN, type TouchedOperations } from './write-fate-damage.js';
export { runHostileFiles, writeStore, hostileCaseArbitrary, HOSTILE_CLASSES, HOSTILE_RUNS_DEFAULT, type HostileCase, type HostileClass, type HostileSummary } from './hostile-files.js';
export { runHostileLinks, type HostileLinksSummary } from './real-files/hostile-links.js';
export { runIoErrorAtEveryOperation, type IoErrorSummary } from './io-error-family.js';
export { pendingEntryOperations } from './crash.js';
export type { CrashPlan, CrashEffects, DataLoss, EntryLoss, Damage } from './crash.js';
export {
  FAULT_KINDS,
  faultArbitraries,
  anyFault,
  combinedCrash,
  plainCrash,
  dataLoss,
  entryLoss,
  damage,
  type Fault,
  type FaultKind,
  type CrashSpec,
} from './faults.js';
export type {
  BackendAdapter,
  BackendSupports,
  AdapterOpenOptions,
  AdapterBase,
  ChecksummedRegion,
  LogAdapter,
  KvAdapter,
  LogRecord,
  KvOperation,
  ProtocolName,
} from './adapter.js';
export { LogModel, KvModel, makePayload, payloadId, type Model } from './model.js';
export { ConformanceViolation } from './violation.js';
export { scenarioArbitrary, applicableFaults, type Scenario, type Step, type RecoveryCrash } from './scenario.js';
export { runRecoveryCrashes, repairSetups, SECOND_RECOVERY_POINTS_MAX, type RepairSetup, type RecoveryCrashSummary } from './recovery-crash-family.js';
export { smallWorkload } from './small-workload.js';
export { ScenarioRun, STORE_DIR, type ScenarioResult, type Outcome } from './runner.js';
export { FaultTally } from './tally.js';
export { fixedScenariosOf, type FixedScenario } from './fixed-scenarios.js';
export { KNOWN_HARD_CASES, knownHardCasesOf, type KnownHardCase } from './known-hard-cases.js';
export {
  describeBackend,
  runConformance,
  runEveryCrashPoint,
  checkFixedScenarios,
  entrySubsets,
  ENTRY_SUBSETS_EXHAUSTIVE_MAX,
  checkConformance,
  conformanceOptions,
  CONFORMANCE_RUNS_DEFAULT,
  type DescribeBackendOptions,
  type ConformanceTestOptions,
} from './describe-backend.js';
export { ReferenceLog, type ReferenceLogOptions } from './reference/reference-log.js';
export { referenceLogAdapter, mutantAdapter, REFERENCE_SEGMENT_BYTES } from './reference/adapter.js';
export { FLAW_NAMES, type FlawName, type ReferenceFlaws } from './reference/flaws.js';
export { referenceKvAdapter, type ReferenceKvFlaws } from './reference/reference-kv.js';
export { runFileDamage, type FileDamageOptions, type FileDamageSummary } from './real-files/damage.js';
export { runKillTest, type KillTestOptions } from './real-files/kill.js';
export { TYPESCRIPT_HOOKS_PATH, runChildUntilKilled, type KillChildOptions, type KilledChild } from './real-files/kill-child-process.js';
export { materialiseToDirectory } from './real-files/materialise.js';
export { runSyncSyncCrashPoints, type SyncSyncSubject } from './sync-sync-crash.js';
export { ROLL_CRASH_PAYLOAD_BYTES, runRollCrashPoints, type RollCrashSubject, type RollCrashSummary } from './roll-crash.js';
export {
  BAD_INPUT_DRAINED_ITEMS_MAX,
  BAD_INPUT_RUNS_PER_TARGET_DEFAULT,
  badInputTargets,
  describeTarget,
  type BadInputTarget,
  badCallProperty,
  badOpenProperty,
  directoryImage,
  hostilePath,
  methodEntryPoint,
  methodsWithoutArguments,
  hostileValue,
  planted,
  runBadInput,
  type BadInputEntryPoint,
  type BadInputSubject,
} from './bad-input.js';
export { STORE_PROTOCOL_CHECKS, type StoreProtocolCheck } from './store-protocol.js';
export {
  FLUSH_TRACE_BEGIN,
  FLUSH_TRACE_END,
  FlushThreadIo,
  ROLLING_APPENDS,
  describeFlushThreads,
  runRollingChild,
  ROLLING_MODES,
  ROLLING_SEGMENT_BYTES,
  countFlushesByThread,
  rollingDurability,
  runRollingWorkload,
  markFlushTrace,
  straceAvailable,
  traceFlushThreads,
  type FlushOperation,
  type FlushThread,
  type FlushThreadTarget,
  type RecordedFlush,
  type RollingMode,
  type RollingSubject,
  type TracedFlushes,
} from './flush-threads.js';
