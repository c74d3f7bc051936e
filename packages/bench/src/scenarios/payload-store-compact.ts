import { closeSync, fdatasyncSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadBackend, type PayloadRef } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BUILD_BATCH_PAYLOADS = 256;
const GIBIBYTE = 2 ** 30;
const QUICK_BYTES = 16 * 2 ** 20;

const NANOSECONDS_PER_MILLISECOND = 1e6;
/** The delay monitor records a block only after its timer fired once: it starts this long before the work. */
const MONITOR_START_MS = 10;
/** The period of the timer loop whose longest gap between turns is the second measure. */
const TIMER_PERIOD_MS = 1;
/** How long keel's rounds also measure an idle wait: the delay the machine itself causes, for comparison. */
const IDLE_MS = 1000;

function storeBytes(quick: boolean): number {
  return quick ? QUICK_BYTES : GIBIBYTE;
}

/** What the event loop went through while `work` ran: the seconds it took and how long the loop was held up. */
interface Stalls {
  seconds: number;
  details: Record<string, number>;
}

/**
 * Runs `work` under `perf_hooks.monitorEventLoopDelay` and a 1 ms timer loop. The
 * histogram's max is the longest delay it saw; the timer loop's longest gap between two
 * turns also catches a block that began before the histogram's first tick.
 */
async function measureStalls(work: () => Promise<void>): Promise<Stalls> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise<void>((resolve) => setTimeout(resolve, MONITOR_START_MS));
  let longestGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, TIMER_PERIOD_MS);
  const started = process.hrtime.bigint();
  try {
    await work();
  } finally {
    clearInterval(timer);
    histogram.disable();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  longestGap = Math.max(longestGap, performance.now() - last);
  return {
    seconds,
    details: {
      'loop delay max ms': histogram.max / NANOSECONDS_PER_MILLISECOND,
      'longest timer gap ms': longestGap,
      'loop delay p99 ms': histogram.percentile(99) / NANOSECONDS_PER_MILLISECOND,
    },
  };
}

/**
 * Each round builds a fresh store of 4 KiB payloads (not timed), keeps every other one
 * live, and times `compact(live, { seal: true })` + `commit()`: the live half rewritten
 * durably, the sources deleted. The rate is live megabytes rewritten per second.
 */
function keelCompaction(directory: string, totalBytes: number): BenchSystem {
  const batch = makePayloads(BUILD_BATCH_PAYLOADS, RECORD_BYTES_PAGE, 11);
  let round = 0;
  let details: Record<string, number> = {};
  return {
    name: 'keel payload-store',
    details: () => details,
    async run() {
      const { PayloadStore } = await loadBackend('payload-store');
      const path = join(directory, `compaction-${round++}`);
      const store = await PayloadStore.open(path, { durability: EXPLICIT });
      const live: PayloadRef[] = [];
      for (let written = 0; written < totalBytes; written += BUILD_BATCH_PAYLOADS * RECORD_BYTES_PAGE) {
        store.appendBatch(batch).forEach((ref, index) => index % 2 === 0 && live.push(ref));
      }
      await store.sync();
      const stalls = await measureStalls(async () => {
        const plan = await store.compact(live, { seal: true });
        await plan.commit();
      });
      const idle = await measureStalls(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
      details = { ...stalls.details, 'idle loop delay max ms': idle.details['loop delay max ms'] as number, 'idle timer gap ms': idle.details['longest timer gap ms'] as number };
      await store.close();
      rmSync(path, { recursive: true, force: true });
      return stalls.seconds;
    },
  };
}

/** The floor: pread every other 4 KiB payload of one file, write them to a new file, fdatasync, unlink the source. */
function rawCompaction(directory: string, totalBytes: number): BenchSystem {
  const chunk = Buffer.concat(makePayloads(BUILD_BATCH_PAYLOADS, RECORD_BYTES_PAGE, 11));
  const payload = Buffer.allocUnsafe(RECORD_BYTES_PAGE);
  let round = 0;
  let details: Record<string, number> = {};
  return {
    name: `${SYSTEM_RAW_FS} copy`,
    details: () => details,
    async run() {
      const path = join(directory, `raw-compaction-${round++}`);
      mkdirSync(path);
      const source = openSync(join(path, 'source'), 'w+');
      for (let position = 0; position < totalBytes; position += chunk.length) writeSync(source, chunk, 0, chunk.length, position);
      fdatasyncSync(source);
      const stalls = await measureStalls(async () => {
        const target = openSync(join(path, 'target'), 'w');
        let written = 0;
        for (let position = 0; position < totalBytes; position += 2 * RECORD_BYTES_PAGE) {
          readSync(source, payload, 0, payload.length, position);
          written += writeSync(target, payload, 0, payload.length, written);
        }
        fdatasyncSync(target);
        closeSync(target);
        closeSync(source);
        rmSync(join(path, 'source'));
      });
      details = stalls.details;
      rmSync(path, { recursive: true, force: true });
      return stalls.seconds;
    },
  };
}

export const compaction: Scenario = {
  name: 'payload-store-compact',
  backend: 'payload-store',
  description: 'compaction of a 1 GiB store of 4 KiB payloads, 50% live: live MB rewritten per second (compact + commit), with the longest event-loop delay meanwhile',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({
    workPerRound: storeBytes(quick) / 2,
    rounds: quick ? 1 : 2,
    warmupRounds: 0,
    scaleNote: quick
      ? 'quick run: a 16 MiB store, one round'
      : 'two rounds, no warm-up: each round writes a fresh 1 GiB store per system, and the work is bound by the disk',
  }),
  async systems(context, sizing) {
    const totalBytes = sizing.workPerRound * 2;
    return [keelCompaction(context.directory, totalBytes), rawCompaction(context.directory, totalBytes)];
  },
};
