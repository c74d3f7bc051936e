/**
 * Tiered segment-log against a real object store: a one-node Ceph with its S3 gateway
 * (scripts/ceph), booted once for the run on this machine. Where Ceph cannot run, these
 * scenarios are skipped with the reason. Figures are for a gateway on 127.0.0.1 sharing
 * the machine's cores with the benchmark, not for a network store.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { remoteChecksum, type RemoteStore } from '@keel/core';
import { S3RemoteStore, WorkerS3RemoteStore } from '@keel/remote-s3';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { cephAvailability, startCluster, type Cluster } from '../../../../scripts/ceph/cluster.mjs';
import { loadBackend, type SegmentLog } from '../backends.js';
import { runBelowThisProcess } from '../background-priority.js';
import { mainThreadCpuClock, processesCpuClock } from '../cpu-clocks.js';
import { makePayloads, RECORD_BYTES_SMALL, TIMESTAMP_BASE_MS } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { onRunEnd } from './shared-data.js';

const EXPLICIT = { mode: 'explicit' } as const;
const MIB = 1024 * 1024;
const BATCH_RECORDS = 1000;
const SYSTEM_LOCAL = 'segment-log without offload, same local retention';
const LOCAL_RETENTION_BYTES = 16 * MIB;
/**
 * The copy quota of keel's row in the tiered append scenario, picked from a sweep on this
 * 2-core machine with the Ceph daemons beside the writer (segment-log README, "Benchmarks (tiered)").
 */
const COPY_QUOTA_BYTES_PER_SECOND = 12e6;
const appendThreadCpu = mainThreadCpuClock();

let cluster: Promise<{ cluster: Cluster; bucket: string; daemonPids: number[] }> | undefined;

/** The run's Ceph and a bucket on it, booted on first use and stopped when the run ends. */
function ceph(): Promise<{ cluster: Cluster; bucket: string; daemonPids: number[] }> {
  cluster ??= (async () => {
    const availability = cephAvailability();
    if (!availability.available) throw new Error(`no object store to measure against: ${availability.reason}`);
    // In this process's session, so that its scheduling group is this one's (lowerPriority).
    const started = await startCluster({ shareSession: true });
    onRunEnd(() => started.stop());
    const daemonPids = lowerPriority(started.dir);
    const client = new S3Client({
      endpoint: started.endpoint, region: started.region, forcePathStyle: true,
      credentials: { accessKeyId: started.accessKeyId, secretAccessKey: started.secretAccessKey },
    });
    const bucket = `keel-bench-${randomBytes(4).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    return { cluster: started, bucket, daemonPids };
  })();
  return cluster;
}

/**
 * The daemons run below the writer, every thread of them, in the writer's scheduling group:
 * in use the object store is other machines, and on this one its CPU time would otherwise
 * be taken from the writer being measured. Renicing a daemon's pid is not enough: that
 * changes its main thread alone, not its other threads nor the scheduling group its own
 * session would form (background-priority.ts); the daemons would compete with the writer as
 * equals. In the writer's group they use what the writer leaves of the group's share, so
 * other work on the machine does not starve them either (the offload backlog each round
 * finishes, untimed, still gets done).
 */
function lowerPriority(dir: string): number[] {
  const runDir = join(dir, 'run');
  const pids = readdirSync(runDir).filter((entry) => entry.endsWith('.keel-pid')).map((name) => Number.parseInt(readFileSync(join(runDir, name), 'utf8'), 10));
  for (const pid of pids) {
    const lowered = runBelowThisProcess(pid);
    const how = `${lowered.idlePolicy ? 'SCHED_IDLE and ' : ''}nice 19${lowered.sharesAutogroup ? '' : ', in a scheduling group of its own'}`;
    console.log(`  ceph daemon ${pid}: ${lowered.threads - lowered.missed} of ${lowered.threads} threads at ${how}`);
  }
  return pids;
}

async function openStore(thread: 'calling' | 'worker' = 'calling'): Promise<RemoteStore> {
  const { cluster: running, bucket } = await ceph();
  const options = {
    bucket, endpoint: running.endpoint, region: running.region, forcePathStyle: true,
    credentials: { accessKeyId: running.accessKeyId, secretAccessKey: running.secretAccessKey },
  };
  return thread === 'worker' ? new WorkerS3RemoteStore(options) : new S3RemoteStore(options);
}

function prefix(): string {
  return `bench-${randomBytes(6).toString('hex')}/`;
}

async function appendBytes(log: SegmentLog, bytes: number): Promise<void> {
  const values = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL, 7);
  for (let written = 0; written < bytes; written += BATCH_RECORDS * RECORD_BYTES_SMALL) {
    const first = log.nextOffset;
    log.appendBatch(values.map((value, index) => ({ value, timestamp: TIMESTAMP_BASE_MS + first + index })));
    await log.sync();
  }
}

/** Offload: a log of sealed segments opened with `tiered`, timed from open to every segment copied and recorded. */
const offload: Scenario = {
  name: 'segment-log-tiered-offload',
  backend: 'segment-log',
  description: 'offload of sealed 8 MiB segments to the local Ceph gateway (open to all copies recorded)',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [],
  sizing(quick) {
    const segments = quick ? 2 : 8;
    return { workPerRound: segments * 8 * MIB, rounds: quick ? 2 : 5, warmupRounds: 1, scaleNote: `${segments} segments of 8 MiB each` };
  },
  async systems(context, sizing) {
    const store = await openStore();
    const dir = join(context.directory, 'offload');
    const { SegmentLog } = await loadBackend('segment-log');
    const built = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: 8 * MIB });
    await appendBytes(built, sizing.workPerRound);
    await built.close();
    const keel: BenchSystem = {
      name: 'keel segment-log (offload)',
      async run() {
        rmSync(join(dir, 'remote-log-metadata'), { force: true });
        const started = process.hrtime.bigint();
        const log = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: 8 * MIB, tiered: { remote: store, prefix: prefix() } });
        await log.offloaded();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        await log.close();
        return seconds;
      },
      teardown: () => store.close(),
    };
    return [keel, rawPuts(dir, store)];
  },
};

/** The floor: the same .log files put with the same store, one after another, no journal. */
function rawPuts(dir: string, store: RemoteStore): BenchSystem {
  return {
    name: 'S3RemoteStore.put of the same files',
    async run() {
      const base = prefix();
      const logs = readdirSync(dir).filter((name) => name.endsWith('.log')).slice(0, -1);
      for (const name of logs) await store.put(`${base}${name}`, readFileSync(join(dir, name)));
    },
  };
}

/** Appends with offload running (small segments, so copies run all the time) against the same log without it. */
const append: Scenario = {
  name: 'segment-log-tiered-append',
  backend: 'segment-log',
  // 4 MiB segments against the 1 GiB default: about twelve seal per 48 MB round, so every
  // round pays offload's per-segment costs (requests, journal syncs, local deletion) in full.
  // A round lasts about half a second here: long enough for a copy quota to pace several
  // copies within it (with 12 MB rounds it could only let the first copy through, or none).
  description: `appends of 100-byte values, ${BATCH_RECORDS} per batch, a sync per batch, 4 MiB segments offloaded as they seal`,
  unit: 'records/s',
  measure: 'throughput',
  targets: [{ kind: 'ratio-at-least', system: SYSTEM_LOCAL, factor: 0.9 }],
  sizing: (quick) => ({ workPerRound: (quick ? 40 : 480) * BATCH_RECORDS, rounds: quick ? 2 : 11, warmupRounds: 1 }),
  async systems(context, sizing) {
    const store = await openStore();
    const threaded = await openStore('worker');
    const { SegmentLog } = await loadBackend('segment-log');
    const storeCpu = processesCpuClock((await ceph()).daemonPids);
    // The log without offload deletes what local retention deletes, so the two differ by offload alone.
    const system = (name: string, remote: RemoteStore | null, retention = true, copyBytesPerSecond?: number): BenchSystem => {
      let log: SegmentLog | undefined;
      let cpu = { writer: 0, appendThread: 0, store: 0 };
      let window = { copyMBps: 0, backlog: 0 };
      return {
        name,
        async setup() {
          const quota = copyBytesPerSecond === undefined ? {} : { copyBytesPerSecond };
          const local = remote === null ? (retention ? { retention: { bytes: LOCAL_RETENTION_BYTES } } : {}) : { tiered: { remote, prefix: prefix(), localRetention: { bytes: LOCAL_RETENTION_BYTES }, ...quota } };
          log = await SegmentLog.open(join(context.directory, name.replace(/\W+/g, '-')), { durability: EXPLICIT, segmentBytes: 4 * MIB, ...local });
        },
        // Timed: the appends, while offload runs beside them. Not timed: the offload's backlog,
        // finished before the round ends so that it does not run during another system's round.
        // The CPU time over both is what offload costs: the writer process's (every thread),
        // the appending thread's alone, and the Ceph daemons' (the store, on the same cores).
        // What offload moved while the appends ran, and the segments still waiting when they
        // ended, show what a copy quota trades for the append rate.
        async run() {
          const opened = log as SegmentLog;
          const started = { writer: process.cpuUsage(), appendThread: appendThreadCpu?.() ?? 0, store: storeCpu() };
          const copiedBefore = opened.stats().tiered?.copiedBytes ?? 0;
          const startedAt = process.hrtime.bigint();
          await appendBytes(opened, sizing.workPerRound * RECORD_BYTES_SMALL);
          const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
          const atEnd = opened.stats().tiered;
          window = { copyMBps: ((atEnd?.copiedBytes ?? 0) - copiedBefore) / seconds / 1e6, backlog: atEnd?.queued ?? 0 };
          await opened.offloaded();
          const used = process.cpuUsage(started.writer);
          cpu = { writer: (used.user + used.system) / 1000, appendThread: (appendThreadCpu?.() ?? 0) - started.appendThread, store: storeCpu() - started.store };
          return seconds;
        },
        details: () => ({
          copiedMBpsWhileAppending: window.copyMBps,
          backlogSegmentsAtEnd: window.backlog,
          writerCpuMs: cpu.writer,
          ...(appendThreadCpu === null ? {} : { appendThreadCpuMs: cpu.appendThread }),
          cephCpuMs: cpu.store,
        }),
        async teardown() {
          await log?.close();
        },
      };
    };
    return [
      // keel's row is the configuration the READMEs tell a writer beside its store to use: the
      // S3 client on a thread of its own, so that its per-request work stays off the appending
      // thread, and a copy quota, so that offload takes a bounded share of the machine.
      system(`keel segment-log (offload to Ceph, copy quota ${COPY_QUOTA_BYTES_PER_SECOND / 1e6} MB/s, S3 client on a worker thread)`, threaded, true, COPY_QUOTA_BYTES_PER_SECOND),
      system('offload to Ceph, no copy quota, S3 client on a worker thread', threaded),
      system('offload to Ceph, no copy quota, S3 client on the appending thread', store),
      system('offload to a store that keeps nothing (in-process cost only)', discardingStore()),
      system(SYSTEM_LOCAL, null),
      system('segment-log without offload or retention', null, false),
    ];
  },
};

/** A RemoteStore that acknowledges every put at once and keeps nothing: what offload costs the writer's process alone. */
function discardingStore(): RemoteStore {
  const refuse = (): Promise<never> => Promise.reject(new Error('this store keeps nothing'));
  return {
    location: 'discard://',
    put: async (key, bytes) => ({ key, bytes: bytes.length, checksum: remoteChecksum(bytes) }),
    get: refuse,
    getRange: refuse,
    head: refuse,
    list: async () => ({ entries: [], next: undefined }),
    delete: async () => undefined,
    close: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
}

/** A log whose first `remoteBytes` are only in the store (local retention 0), built once per scenario. */
async function offloadedLog(directory: string, store: RemoteStore, remoteBytes: number, cacheBytes: number): Promise<SegmentLog> {
  const { SegmentLog } = await loadBackend('segment-log');
  const tiered = { remote: store, prefix: `shared-${remoteBytes}/`, localRetention: { bytes: 0 }, cacheBytes };
  const log = await SegmentLog.open(directory, { durability: EXPLICIT, segmentBytes: 4 * MIB, tiered });
  if (log.nextOffset === 0) {
    await appendBytes(log, remoteBytes + 4 * MIB);
    await log.offloaded();
    await log.enforceRetention();
  }
  return log;
}

function sequentialReader(name: string, directory: string, store: () => Promise<RemoteStore>, remoteBytes: number, cacheBytes: number, passes: number): BenchSystem {
  let log: SegmentLog | undefined;
  return {
    name,
    async setup() {
      log = await offloadedLog(directory, await store(), remoteBytes, cacheBytes);
    },
    async run() {
      const opened = log as SegmentLog;
      let seconds = 0;
      // With a cache, the first pass fills it and the second is timed.
      for (let pass = 0; pass < passes; pass++) {
        const started = process.hrtime.bigint();
        for (let next = opened.startOffset; next < opened.localStartOffset;) {
          const records = await opened.readAsync(next);
          next = (records.at(-1)?.offset ?? next) + 1;
        }
        seconds = Number(process.hrtime.bigint() - started) / 1e9;
      }
      return seconds;
    },
    async teardown() {
      await log?.close();
    },
  };
}

/** Sequential reads of the remote part, with a cache that holds it (second pass timed) and with none. */
const remoteRead: Scenario = {
  name: 'segment-log-tiered-read',
  backend: 'segment-log',
  description: 'sequential readAsync of the offloaded part of a log (1 MiB reads): warm cache, no cache',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({ workPerRound: (quick ? 8 : 32) * MIB, rounds: quick ? 2 : 5, warmupRounds: 1 }),
  async systems(context, sizing) {
    const store = await openStore();
    const directory = join(context.directory, 'read');
    return [
      sequentialReader('keel segment-log (remote, warm 256 MiB cache)', directory, async () => store, sizing.workPerRound, 256 * MIB, 2),
      sequentialReader('remote, no cache', `${directory}-cold`, async () => store, sizing.workPerRound, 0, 1),
    ];
  },
};

/** One record below the local start with nothing cached: two index GETs and one range GET. */
const firstRecord: Scenario = {
  name: 'segment-log-tiered-first-record',
  backend: 'segment-log',
  description: 'readAsync of one record below the local start, nothing cached (index fetch + range read)',
  unit: 'ms',
  measure: 'duration',
  targets: [],
  sizing: (quick) => ({ workPerRound: 1, rounds: quick ? 5 : 21, warmupRounds: 2 }),
  async systems(context) {
    const store = await openStore();
    let log: SegmentLog | undefined;
    let round = 0;
    const remote: BenchSystem = {
      name: 'keel segment-log (remote, cold)',
      async setup() {
        log = await offloadedLog(join(context.directory, 'first'), store, 16 * MIB, 0);
      },
      async run() {
        const opened = log as SegmentLog;
        // A different remote offset each round, so no segment's index is reused.
        const span = opened.localStartOffset - opened.startOffset;
        const offset = opened.startOffset + Math.floor(((round++ * 0.618_033_988_75) % 1) * span);
        const started = process.hrtime.bigint();
        await opened.readAsync(offset, { maxRecords: 1 });
        return Number(process.hrtime.bigint() - started) / 1e9;
      },
      async teardown() {
        await log?.close();
      },
    };
    const local: BenchSystem = {
      name: 'local read of one record',
      async run() {
        const opened = log as SegmentLog;
        const started = process.hrtime.bigint();
        opened.read(opened.localStartOffset, { maxRecords: 1 });
        return Number(process.hrtime.bigint() - started) / 1e9;
      },
    };
    return [remote, local];
  },
};

export const SEGMENT_LOG_TIERED_SCENARIOS: readonly Scenario[] = [offload, append, remoteRead, firstRecord];
