import { writeSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { nativeIo, type Io } from '@keel/core';
import { loadBackend, type Journal } from '../backends.js';
import { RawFsLog } from '../peers/raw-fs.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import { withoutSyncs } from './without-syncs.js';

const EXPLICIT = { mode: 'explicit' } as const;
const NANOSECONDS_PER_MICROSECOND = 1e3;

/** Runs `append` `count` times one after another; returns the mean µs per call. */
function perAppend(name: string, count: number, append: () => Promise<unknown> | void, setup?: () => Promise<void>, teardown?: () => Promise<void>): BenchSystem {
  return {
    name,
    ...(setup === undefined ? {} : { setup }),
    ...(teardown === undefined ? {} : { teardown }),
    async run() {
      const started = process.hrtime.bigint();
      for (let index = 0; index < count; index++) await append();
      return Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_MICROSECOND / count;
    },
  };
}

/** A journal appended to one record at a time, made durable with `syncThrough` or `syncSync`. */
function journalSystem(name: string, path: string, count: number, record: Buffer, options: { sync: 'async' | 'sync'; io?: Io }): BenchSystem {
  let journal: Journal | undefined;
  const append =
    options.sync === 'async'
      ? () => (journal as Journal).syncThrough((journal as Journal).append(record))
      : () => {
          (journal as Journal).append(record);
          (journal as Journal).syncSync();
        };
  return perAppend(
    name,
    count,
    append,
    async () => {
      const { Journal } = await loadBackend('journal');
      journal = await Journal.open(path, { durability: EXPLICIT, ...(options.io === undefined ? {} : { io: options.io }) });
    },
    async () => journal?.close(),
  );
}

/**
 * Where the time of one durable append goes. The same 100-byte record, one at a time,
 * each durable before the next, in µs per append: the journal's async path and its
 * syncSync against raw node:fs both ways; then the parts — keel's own cost with the
 * fdatasync made a no-op (async and sync: their difference is the promise machinery), and
 * one bare round trip through the libuv threadpool (what every async fdatasync pays on
 * top of the sync one).
 */
const appendCost: Scenario = {
  name: 'journal-append-single-cost',
  backend: 'journal',
  description: 'µs per durable 100-byte append, one at a time: journal async and syncSync, raw node:fs sync and async, keel with fdatasync a no-op, one bare threadpool round trip',
  unit: 'µs',
  measure: 'reported',
  lowerIsBetter: true,
  targets: [],
  sizing(quick) {
    return { workPerRound: quick ? 50 : 200, rounds: quick ? 2 : 5, warmupRounds: 1 };
  },
  async systems(context, sizing) {
    const [payload] = makePayloads(1, RECORD_BYTES_SMALL);
    const record = payload as Buffer;
    const count = sizing.workPerRound;
    const at = (name: string): string => join(context.directory, name);
    const noSyncIo = withoutSyncs(nativeIo);
    let raw: RawFsLog | undefined;
    let handle: FileHandle | undefined;
    let probe: FileHandle | undefined;
    let position = 0;
    return [
      journalSystem('keel journal: append + await syncThrough', at('async.log'), count, record, { sync: 'async' }),
      journalSystem('keel journal: append + syncSync', at('sync.log'), count, record, { sync: 'sync' }),
      perAppend(
        `${SYSTEM_RAW_FS}: writeSync + fdatasyncSync`,
        count,
        () => raw?.appendDurably(record),
        async () => void (raw = new RawFsLog(context.directory, 'raw-sync.log')),
        async () => raw?.close(),
      ),
      perAppend(
        `${SYSTEM_RAW_FS}: writeSync + await datasync (threadpool)`,
        count,
        async () => {
          const opened = handle as FileHandle;
          position += writeSync(opened.fd, record, 0, record.length, position);
          await opened.datasync();
        },
        async () => void (handle = await openFile(at('raw-async.log'), 'w+')),
        async () => handle?.close(),
      ),
      journalSystem('keel journal, fdatasync a no-op: async', at('async-nosync.log'), count, record, { sync: 'async', io: noSyncIo }),
      journalSystem('keel journal, fdatasync a no-op: syncSync', at('sync-nosync.log'), count, record, { sync: 'sync', io: noSyncIo }),
      perAppend(
        'one threadpool round trip (FileHandle.stat)',
        count,
        async () => (probe as FileHandle).stat(),
        async () => void (probe = await openFile(at('probe'), 'w+')),
        async () => probe?.close(),
      ),
    ];
  },
};

export const JOURNAL_APPEND_COST_SCENARIOS: Scenario[] = [appendCost];
