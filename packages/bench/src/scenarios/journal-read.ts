import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type Journal } from '../backends.js';
import { makePayloads, RECORD_BYTES_PAGE, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario, ScenarioContext } from '../types.js';
import { rawReader } from './raw-read.js';
import { buildOnce, sharedHandle } from './shared-data.js';

const GIBIBYTE = 2 ** 30;
const QUICK_BYTES = 16 * 2 ** 20;
const BUILD_BATCH_RECORDS = 10_000;
const EXPLICIT = { mode: 'explicit' } as const;

/** A journal of `recordBytes`-byte records (100 by default) of about `bytes`, built and synced once; returns its path and size. */
export function sharedJournal(context: ScenarioContext, bytes: number, recordBytes = RECORD_BYTES_SMALL): Promise<{ path: string; bytes: number }> {
  const path = join(context.sharedDirectory, recordBytes === RECORD_BYTES_SMALL ? `journal-${bytes}.log` : `journal-${bytes}-${recordBytes}.log`);
  return buildOnce(path, async () => {
    const { Journal } = await loadBackend('journal');
    const journal = await Journal.open(path, { durability: EXPLICIT });
    const batch = makePayloads(Math.ceil(BUILD_BATCH_RECORDS * RECORD_BYTES_SMALL / recordBytes), recordBytes, 3);
    while (journal.nextLsn < bytes) journal.appendBatch(batch);
    await journal.sync();
    await journal.close();
    return { path, bytes: statSync(path).size };
  });
}

function journalBytes(quick: boolean): number {
  return quick ? QUICK_BYTES : GIBIBYTE;
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

/** keel's journal read through with `scan()` (batches of views, nothing per record) or `records()` (an object and a copy per record). */
function journalScanner(handle: ReturnType<typeof sharedHandle<Journal>>, how: 'scan' | 'records'): BenchSystem {
  let journal: Journal | undefined;
  return {
    name: `keel journal ${how}()`,
    async setup() {
      journal = await handle.acquire();
    },
    async run() {
      let records = 0;
      if (how === 'scan') {
        for await (const batch of (journal as Journal).scan()) {
          for (let index = 0; index < batch.count; index++) records += batch.payload(index).length > 0 ? 1 : 0;
        }
      } else {
        for (const record of (journal as Journal).records()) records += record.payload.length > 0 ? 1 : 0;
      }
      if (records === 0) throw new Error('the journal scan returned no records');
    },
    teardown: () => handle.release(),
  };
}

function scanScenario(name: string, recordBytes: number, target: number): Scenario {
  return {
    name,
    backend: 'journal',
    description: `full scan of a journal of ${recordBytes === RECORD_BYTES_PAGE ? '4 KiB' : `${recordBytes}-byte`} records with CRC checks, warm cache: scan() batches and records() objects, beside raw 1 MiB reads of the same file`,
    unit: 'MB/s',
    measure: 'throughput',
    targets: [{ kind: 'value-at-least', value: target }],
    sizing: journalSizing,
    async systems(context, sizing) {
      const { path } = await sharedJournal(context, sizing.workPerRound, recordBytes);
      const handle = sharedHandle(async () => (await loadBackend('journal')).Journal.open(path, { durability: EXPLICIT }));
      return [journalScanner(handle, 'scan'), journalScanner(handle, 'records'), rawReader(() => [path])];
    },
  };
}

const scan = scanScenario('journal-scan-1gib', RECORD_BYTES_SMALL, 1000);
const scanPages = scanScenario('journal-scan-1gib-4k', RECORD_BYTES_PAGE, 2000);

/** The journal's clean-shutdown record: a clean close writes it, the next open trusts it instead of checking every frame. */
const CLEAN_SHUTDOWN_SUFFIX = '.clean-shutdown';
/** The smaller journal beside the 1 GiB one: an open after a clean close should take as long for either. */
const SMALL_JOURNAL_FRACTION = 64;
const OPEN_ROUNDS = 9;

/**
 * One timed open of the journal at `path`, then its close (untimed). `after`: 'clean close'
 * opens what the previous close left (its clean-shutdown record); 'crash' removes the
 * record first, as a crash leaves none, so the open checks every frame. Each round checks
 * that open took the path it is named for.
 */
function journalOpener(name: string, path: () => string, after: 'clean close' | 'crash'): BenchSystem {
  return {
    name,
    async run() {
      const { Journal } = await loadBackend('journal');
      if (after === 'crash') rmSync(`${path()}${CLEAN_SHUTDOWN_SUFFIX}`, { force: true });
      const started = process.hrtime.bigint();
      const journal = await Journal.open(path(), { durability: EXPLICIT });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const trusted = journal.recovery.actions.some((action) => action.kind === 'trusted-clean-shutdown');
      await journal.close();
      if (trusted !== (after === 'clean close')) throw new Error(`${name}: open ${trusted ? 'trusted a clean-shutdown record' : 'checked every frame'}, not what this system measures`);
      return seconds;
    },
  };
}

const open: Scenario = {
  name: 'journal-open-1gib',
  backend: 'journal',
  description: 'open of a 1 GiB journal (page cache warm) after a clean close (the clean-shutdown record stands in for the check) and after a crash (every frame checked), beside a 1/64 as large journal after a clean close and raw 1 MiB reads of the 1 GiB file',
  unit: 'ms',
  measure: 'duration',
  targets: [{ kind: 'value-at-most', value: 1500 }],
  // An open after a clean close is a few small reads and one directory fsync: more rounds, for a median the fsync's spread does not decide.
  sizing: (quick) => ({ ...journalSizing(quick), rounds: quick ? 2 : OPEN_ROUNDS }),
  async systems(context, sizing) {
    const { path } = await sharedJournal(context, sizing.workPerRound);
    const small = await sharedJournal(context, Math.ceil(sizing.workPerRound / SMALL_JOURNAL_FRACTION));
    return [
      journalOpener('keel journal, after a clean close', () => path, 'clean close'),
      journalOpener('keel journal, after a crash (every frame checked)', () => path, 'crash'),
      journalOpener(`keel journal 1/${SMALL_JOURNAL_FRACTION} the size, after a clean close`, () => small.path, 'clean close'),
      rawReader(() => [path]),
    ];
  },
};

export const JOURNAL_READ_SCENARIOS: Scenario[] = [scan, scanPages, open];
