import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadBackend, type WalKv } from '../backends.js';
import { mainThreadCpuClock } from '../cpu-clocks.js';
import { keyFor, makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';

const EXPLICIT = { mode: 'explicit' } as const;
/** Maintenance only when the round asks for it. */
const NO_AUTOMATIC_MAINTENANCE = { checkpointEveryBytes: Number.POSITIVE_INFINITY, compactWhenGarbageRatio: 1 };
const BATCH_KEYS = 1000;
/** New keys (before a checkpoint) or overwritten keys (before a compaction) per round, so each round has work to do. */
const KEYS_CHANGED_PER_ROUND = 10_000;
const NANOSECONDS_PER_MILLISECOND = 1e6;
const MICROSECONDS_PER_MILLISECOND = 1e3;
const MONITOR_START_MS = 10;

type Task = 'checkpoint' | 'compaction' | 'idle';
/** How long the idle round runs: the delay the machine itself causes, for comparison. */
const IDLE_ROUND_MS = 1000;

const mainThreadCpu = mainThreadCpuClock();

/** A store of `keys` keys with 100-byte values, built once and shared by the systems of that size. */
function storeOf(directory: string, keys: number): () => Promise<WalKv> {
  let opened: Promise<WalKv> | undefined;
  return () =>
    (opened ??= (async () => {
      const { WalKv } = await loadBackend('wal-kv');
      const kv = await WalKv.open(join(directory, `wal-kv-${keys}`), { durability: EXPLICIT, ...NO_AUTOMATIC_MAINTENANCE });
      const values = makePayloads(BATCH_KEYS, RECORD_BYTES_SMALL, 31);
      for (let start = 0; start < keys; start += BATCH_KEYS) {
        kv.putBatch(Array.from({ length: Math.min(BATCH_KEYS, keys - start) }, (_, i) => [keyFor(start + i), values[i]!] as [string, Uint8Array]));
        if (start % (100 * BATCH_KEYS) === 0) await kv.sync();
      }
      await kv.sync();
      return kv;
    })());
}

/**
 * One round: change KEYS_CHANGED_PER_ROUND keys, then run the task (or, for the baseline,
 * wait IDLE_ROUND_MS) while one put per turn of the event loop goes on, and report the
 * longest event-loop delay seen meanwhile.
 */
function maintainer(name: string, task: Task, keys: number, store: () => Promise<WalKv>): BenchSystem {
  let round = 0;
  let details: Record<string, number> = {};
  const value = makePayloads(1, RECORD_BYTES_SMALL, 37)[0]!;
  return {
    name,
    setup: async () => void (await store()),
    async run() {
      const kv = await store();
      round++;
      for (let i = 0; i < KEYS_CHANGED_PER_ROUND; i++) kv.put(task === 'checkpoint' ? keyFor(keys + round * KEYS_CHANGED_PER_ROUND + i) : keyFor(i), value);
      await kv.sync();
      const loop = monitorEventLoopDelay({ resolution: 1 });
      let running = true;
      let puts = 0;
      // A second measure: the longest gap between two turns of the put loop; and a third,
      // the most CPU time the process used in one such gap. On a loaded machine a gap can
      // be long because the process was not scheduled at all; its CPU time is what the
      // process itself spent (all its threads, so an upper bound on the event loop's).
      let longestTurn = 0;
      let longestTurnCpu = 0;
      // And a fourth where Linux tells it: the most CPU time the main thread alone used
      // in one gap, the event loop's own work.
      let longestTurnMainCpu = 0;
      const writer = (async () => {
        let last = performance.now();
        let lastCpu = process.cpuUsage();
        let lastMainCpu = mainThreadCpu?.() ?? 0;
        while (running) {
          kv.put(keyFor(puts++ % keys), value);
          await new Promise<void>((resolve) => setImmediate(resolve));
          const now = performance.now();
          const cpu = process.cpuUsage();
          const mainCpu = mainThreadCpu?.() ?? 0;
          longestTurn = Math.max(longestTurn, now - last);
          longestTurnCpu = Math.max(longestTurnCpu, (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / MICROSECONDS_PER_MILLISECOND);
          longestTurnMainCpu = Math.max(longestTurnMainCpu, mainCpu - lastMainCpu);
          last = now;
          lastCpu = cpu;
          lastMainCpu = mainCpu;
        }
      })();
      loop.enable();
      // The monitor's timer must have fired once: a block before that is not recorded.
      await new Promise<void>((resolve) => setTimeout(resolve, MONITOR_START_MS));
      longestTurn = 0;
      longestTurnCpu = 0;
      longestTurnMainCpu = 0;
      const started = process.hrtime.bigint();
      let taskMs = 0;
      try {
        await (task === 'checkpoint' ? kv.checkpoint() : task === 'compaction' ? kv.compact() : new Promise((resolve) => setTimeout(resolve, IDLE_ROUND_MS)));
        taskMs = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_MILLISECOND;
      } finally {
        // A failed task is the error to report: stop the put loop before the harness closes the store under it.
        loop.disable();
        running = false;
        await writer;
      }
      details = { 'task ms': taskMs, 'longest turn ms': longestTurn, 'most CPU in a turn ms': longestTurnCpu, ...(mainThreadCpu === null ? {} : { 'most main-thread CPU in a turn ms': longestTurnMainCpu }), 'mean delay ms': loop.mean / NANOSECONDS_PER_MILLISECOND, 'puts meanwhile': puts };
      return loop.max / NANOSECONDS_PER_MILLISECOND;
    },
    details: () => details,
    teardown: async () => (await store()).close(),
  };
}

export const walKvMaintenanceScenario: Scenario = {
  name: 'wal-kv-maintenance-stall',
  backend: 'wal-kv',
  description: 'longest event-loop delay (perf_hooks.monitorEventLoopDelay) during a checkpoint and during a compaction, at 1M and 5M keys, with one put per turn going on',
  unit: 'ms',
  measure: 'reported',
  targets: [],
  sizing: (quick) => ({ workPerRound: 1, rounds: quick ? 2 : 3, warmupRounds: 1, ...(quick ? { scaleNote: 'quick run: 20k and 100k keys' } : {}) }),
  async systems(context) {
    const sizes = context.quick ? [20_000, 100_000] : [1_000_000, 5_000_000];
    return sizes.flatMap((keys) => {
      const store = storeOf(context.directory, keys);
      const label = keys >= 1_000_000 ? `${keys / 1_000_000}M` : `${keys / 1000}k`;
      const tasks = (['checkpoint', 'compaction'] as const).map((task) => maintainer(`keel wal-kv ${task}, ${label} keys`, task, keys, store));
      // The same put loop with no maintenance: what the machine's own scheduling adds.
      return keys === sizes[0] ? [maintainer(`keel wal-kv no maintenance (baseline), ${label} keys`, 'idle', keys, store), ...tasks] : tasks;
    });
  },
};
