/**
 * The shapes the harness works with. A scenario is one workload; each of its systems is
 * keel or a peer library doing that same workload with the same durability.
 */

/** The unit a scenario reports in; the first three are rates (higher is better). */
export type Unit = 'ops/s' | 'records/s' | 'MB/s' | 'ms' | 'µs' | 'B/key';

export interface BenchSystem {
  readonly name: string;
  /** Prepares the system (opens stores, loads data). Not timed. */
  setup?(): Promise<void>;
  /**
   * One round of the workload. Timed by the harness unless it returns a number:
   * for `throughput` and `duration` scenarios that number is the seconds it measured
   * itself (to leave out work that is not the workload); for `reported` scenarios it is
   * the value in the scenario's unit.
   */
  run(): Promise<number | void>;
  /** Closes and removes what setup made. */
  teardown?(): Promise<void>;
  /**
   * Figures beside the round's value (latency percentiles, event-loop delay), read after
   * each measured round; the results carry the median of each over the rounds.
   */
  details?(): Record<string, number>;
}

/**
 * `throughput`: value = workPerRound / seconds (records, operations or bytes → MB);
 * `duration`: value = seconds per round in ms or µs;
 * `reported`: value = what run() returned.
 */
export type Measure = 'throughput' | 'duration' | 'reported';

export type Target =
  /**
   * keel must be at least `factor` times better than `system`. `ceiling` names a system of
   * the same scenario that does the least the same work needs (node:fs writing the same
   * bytes): its own ratio to `system`, shown beside the verdict, is the most a store
   * appending those bytes could reach in that run, so a miss reads against the limit
   * measured with it.
   */
  | { readonly kind: 'ratio-at-least'; readonly system: string; readonly factor: number; readonly ceiling?: string }
  /** keel's own median must be at least `value` (in the scenario's unit). */
  | { readonly kind: 'value-at-least'; readonly value: number }
  /** keel's own median must be at most `value` (in the scenario's unit). */
  | { readonly kind: 'value-at-most'; readonly value: number };

export interface ScenarioContext {
  /** The --quick profile: small sizes, few rounds. */
  readonly quick: boolean;
  /** A fresh directory for this scenario, removed after it. */
  readonly directory: string;
  /** A directory shared by every scenario of the run, for large data sets built once. */
  readonly sharedDirectory: string;
  /** The compiled CLI, for scenarios that measure in a child process (absent in tests). */
  readonly cliPath?: string;
}

export interface ScenarioSizing {
  /** Work per round in the unit's numerator: operations, records or bytes. */
  readonly workPerRound: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Says where sizes differ from what the issue names, and why. */
  readonly scaleNote?: string;
}

export interface Scenario {
  readonly name: string;
  /** The keel package this scenario measures (the README it belongs in). */
  readonly backend: 'journal' | 'segment-log' | 'payload-store' | 'wal-kv';
  readonly description: string;
  readonly unit: Unit;
  readonly measure: Measure;
  /** For `reported` scenarios; rates are always higher-is-better, durations lower. */
  readonly lowerIsBetter?: boolean;
  readonly targets: readonly Target[];
  /** Count fdatasync/fsync/msync calls per round under strace (full runs only). */
  readonly countSyncs?: boolean;
  sizing(quick: boolean): ScenarioSizing;
  /** Loads what the systems need (a keel backend that is missing rejects, and the scenario is skipped). */
  systems(context: ScenarioContext, sizing: ScenarioSizing): Promise<BenchSystem[]>;
}
