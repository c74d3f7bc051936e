import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type SegmentLog } from '../backends.js';
import { makePayloads } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';

const EXPLICIT = { mode: 'explicit' } as const;
const RECORD_BYTES = 74;
const RECORDS_PER_SEGMENT = 4;
/** Header, then four frames of 12 + 26 + 74 bytes. */
const SEGMENT_BYTES = 24 + RECORDS_PER_SEGMENT * (12 + 26 + RECORD_BYTES);
/** Files per segment: `.log`, `.index`, `.timeindex`. */
const FILES_PER_SEGMENT = 3;
const NANOSECONDS_PER_SECOND = 1e9;

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
}

/** Each round builds a log of `segments` sealed segments (not timed), then times deleteBefore of all of them. */
function keelDelete(directory: string, segments: number): BenchSystem {
  let round = 0;
  return {
    name: 'keel segment-log',
    async run() {
      const { SegmentLog } = await loadBackend('segment-log');
      const dir = join(directory, `log-${round++}`);
      const log: SegmentLog = await SegmentLog.open(dir, { durability: EXPLICIT, segmentBytes: SEGMENT_BYTES });
      const batch = makePayloads(RECORDS_PER_SEGMENT, RECORD_BYTES).map((value) => ({ value }));
      for (let segment = 0; segment < segments; segment++) log.appendBatch(batch);
      log.append({ value: batch[0]?.value as Uint8Array });
      await log.sync();
      const started = process.hrtime.bigint();
      await log.deleteBefore(log.nextOffset - 1);
      const seconds = secondsSince(started);
      await log.close();
      rmSync(dir, { recursive: true, force: true });
      return seconds;
    },
  };
}

/** The floor: unlinkSync of the same number of small files, then one directory fsync. */
function rawUnlink(directory: string, segments: number): BenchSystem {
  let round = 0;
  return {
    name: `${SYSTEM_RAW_FS} (unlinkSync + one directory fsync)`,
    async run() {
      const dir = join(directory, `raw-${round++}`);
      mkdirSync(dir);
      const files = segments * FILES_PER_SEGMENT;
      const bytes = new Uint8Array(SEGMENT_BYTES);
      for (let index = 0; index < files; index++) {
        const fd = openSync(join(dir, `f${index}`), 'w');
        writeSync(fd, bytes);
        fdatasyncSync(fd);
        closeSync(fd);
      }
      const started = process.hrtime.bigint();
      for (let index = 0; index < files; index++) unlinkSync(join(dir, `f${index}`));
      const fd = openSync(dir, 'r');
      fdatasyncSync(fd);
      closeSync(fd);
      const seconds = secondsSince(started);
      rmSync(dir, { recursive: true, force: true });
      return seconds;
    },
  };
}

export const SEGMENT_LOG_DELETE_SCENARIO: Scenario = {
  name: 'segment-log-delete-before',
  backend: 'segment-log',
  description: 'deleteBefore of every sealed segment of a log of small segments (time of the call)',
  unit: 'ms',
  measure: 'duration',
  targets: [],
  sizing(quick) {
    const segments = quick ? 200 : 1000;
    return { workPerRound: segments, rounds: quick ? 2 : 5, warmupRounds: 1, scaleNote: `${segments} segments of ${RECORDS_PER_SEGMENT} records each` };
  },
  async systems(context, sizing) {
    return [keelDelete(context.directory, sizing.workPerRound), rawUnlink(context.directory, sizing.workPerRound)];
  },
};
