// Types for cluster.mjs, for the TypeScript tests that use it.
export declare const CEPH_COMMANDS: readonly string[];
export declare const CLUSTER_BOOT_TIMEOUT_MS: number;
export declare const GATEWAY_READY_TIMEOUT_MS: number;

export type CephAvailability = { available: true } | { available: false; reason: string };
export declare function cephAvailability(): CephAvailability;

export interface Cluster {
  dir: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bootMs: number;
  stages: Record<string, number>;
  stop(): Promise<void>;
}
/** `shareSession`: the daemons stay in the caller's session (and scheduling autogroup); for benchmarks. */
export declare function startCluster(options?: { shareSession?: boolean }): Promise<Cluster>;
export declare function destroyClusterSync(dir: string): void;
export declare function clusterEnv(cluster: Cluster): Record<string, string>;

export interface Gateway {
  name: string;
  port: number;
  endpoint: string;
  /** Starts (again) on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Kills it outright: connections are refused until start(). */
  kill(): Promise<void>;
  /** SIGSTOP: connections are accepted, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}
export declare function startGateway(options?: { dir?: string; port?: number; shareSession?: boolean }): Promise<Gateway>;
