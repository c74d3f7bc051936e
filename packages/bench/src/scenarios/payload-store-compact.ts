import { closeSync, fdatasyncSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type PayloadRef } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const BUILD_BATCH_PAYLOADS = 256;
const GIBIBYTE = 2 ** 30;
const QUICK_BYTES = 16 * 2 ** 20;

function storeBytes(quick: boolean): number {
  return quick ? QUICK_BYTES : GIBIBYTE;
}

/**
 * Each round builds a fresh store of 4 KiB payloads (not timed), keeps every other one
 * live, and times `compact(live, { seal: true })` + `commit()`: the live half rewritten
 * durably, the sources deleted. The rate is live megabytes rewritten per second.
 */
function keelCompaction(directory: string, totalBytes: number): BenchSystem {
  const batch = makePayloads(BUILD_BATCH_PAYLOADS, RECORD_BYTES_PAGE, 11);
  let round = 0;
  return {
    name: 'keel payload-store',
    async run() {
      const { PayloadStore } = await loadBackend('payload-store');
      const path = join(directory, `compaction-${round++}`);
      const store = await PayloadStore.open(path, { durability: EXPLICIT });
      const live: PayloadRef[] = [];
      for (let written = 0; written < totalBytes; written += BUILD_BATCH_PAYLOADS * RECORD_BYTES_PAGE) {
        store.appendBatch(batch).forEach((ref, index) => index % 2 === 0 && live.push(ref));
      }
      await store.sync();
      const started = process.hrtime.bigint();
      const plan = await store.compact(live, { seal: true });
      await plan.commit();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await store.close();
      rmSync(path, { recursive: true, force: true });
      return seconds;
    },
  };
}

/** The floor: pread every other 4 KiB payload of one file, write them to a new file, fdatasync, unlink the source. */
function rawCompaction(directory: string, totalBytes: number): BenchSystem {
  const chunk = Buffer.concat(makePayloads(BUILD_BATCH_PAYLOADS, RECORD_BYTES_PAGE, 11));
  const payload = Buffer.allocUnsafe(RECORD_BYTES_PAGE);
  let round = 0;
  return {
    name: `${SYSTEM_RAW_FS} copy`,
    async run() {
      const path = join(directory, `raw-compaction-${round++}`);
      mkdirSync(path);
      const source = openSync(join(path, 'source'), 'w+');
      for (let position = 0; position < totalBytes; position += chunk.length) writeSync(source, chunk, 0, chunk.length, position);
      fdatasyncSync(source);
      const started = process.hrtime.bigint();
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
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rmSync(path, { recursive: true, force: true });
      return seconds;
    },
  };
}

export const compaction: Scenario = {
  name: 'payload-store-compact',
  backend: 'payload-store',
  description: 'compaction of a 1 GiB store of 4 KiB payloads, 50% live: live MB rewritten per second (compact + commit)',
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
