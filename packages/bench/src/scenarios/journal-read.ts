import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type Journal } from '../backends.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario, ScenarioContext } from '../types.js';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import { buildOnce } from './shared-data.js';

const GIBIBYTE = 2 ** 30;
const QUICK_BYTES = 16 * 2 ** 20;
const BUILD_BATCH_RECORDS = 10_000;
const READ_CHUNK_BYTES = 1 << 20;
const EXPLICIT = { mode: 'explicit' } as const;

/** A journal of 100-byte records of about `bytes`, built and synced once; returns its path and size. */
export function sharedJournal(context: ScenarioContext, bytes: number): Promise<{ path: string; bytes: number }> {
  const path = join(context.sharedDirectory, `journal-${bytes}.log`);
  return buildOnce(path, async () => {
    const { Journal } = await loadBackend('journal');
    const journal = await Journal.open(path, { durability: EXPLICIT });
    const batch = makePayloads(BUILD_BATCH_RECORDS, RECORD_BYTES_SMALL, 3);
    while (journal.nextLsn < bytes) journal.appendBatch(batch);
    await journal.sync();
    await journal.close();
    return { path, bytes: statSync(path).size };
  });
}

function journalBytes(quick: boolean): number {
  return quick ? QUICK_BYTES : GIBIBYTE;
}

/** Reads the file front to back in 1 MiB chunks: the page-cache bandwidth any scan is bounded by. */
function rawReader(path: string): BenchSystem {
  const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  return {
    name: `${SYSTEM_RAW_FS} read (no parsing)`,
    async run() {
      const fd = openSync(path, 'r');
      try {
        let position = 0;
        for (let read = 1; read > 0; position += read) read = readSync(fd, chunk, 0, chunk.length, position);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Both scenarios read one shared journal: 1 GiB, or 16 MiB in a quick run. */
export function journalSizing(quick: boolean): ReturnType<Scenario['sizing']> {
  return {
    workPerRound: journalBytes(quick),
    rounds: quick ? 2 : 3,
    warmupRounds: 1,
    ...(quick ? { scaleNote: 'quick run: a 16 MiB journal instead of 1 GiB' } : {}),
  };
}

const scan: Scenario = {
  name: 'journal-scan-1gib',
  backend: 'journal',
  description: 'full scan of a journal of 100-byte records with CRC checks, warm cache',
  unit: 'MB/s',
  measure: 'throughput',
  targets: [{ kind: 'value-at-least', value: 1000 }],
  sizing: journalSizing,
  async systems(context, sizing) {
    const { path } = await sharedJournal(context, sizing.workPerRound);
    let journal: Journal | undefined;
    return [
      {
        name: 'keel journal',
        async setup() {
          const { Journal } = await loadBackend('journal');
          journal = await Journal.open(path, { durability: EXPLICIT });
        },
        async run() {
          let records = 0;
          for (const record of (journal as Journal).records()) records += record.payload.length > 0 ? 1 : 0;
          if (records === 0) throw new Error('the journal scan returned no records');
        },
        async teardown() {
          await journal?.close();
        },
      },
      rawReader(path),
    ];
  },
};

const open: Scenario = {
  name: 'journal-open-1gib',
  backend: 'journal',
  description: 'open + recovery (full validation of every frame) of a 1 GiB journal, then close',
  unit: 'ms',
  measure: 'duration',
  targets: [{ kind: 'value-at-most', value: 1500 }],
  sizing: journalSizing,
  async systems(context, sizing) {
    const { path } = await sharedJournal(context, sizing.workPerRound);
    return [
      {
        name: 'keel journal',
        async run() {
          const { Journal } = await loadBackend('journal');
          const started = process.hrtime.bigint();
          const journal = await Journal.open(path, { durability: EXPLICIT });
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          await journal.close();
          return seconds;
        },
      },
      rawReader(path),
    ];
  },
};

export const JOURNAL_READ_SCENARIOS: Scenario[] = [scan, open];
