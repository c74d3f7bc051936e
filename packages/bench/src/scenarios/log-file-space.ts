/**
 * What appending costs a durable log, and what writing over space prepared for it would
 * cost instead: node:fs alone, so that the figures are the file system's and the disk's,
 * not a store's. An append grows the file, and an fdatasync after it commits the new
 * size to the file system's journal; a write over bytes the file already holds, written
 * and synced before, has no size to commit. Space has to be written to be had, though:
 * these systems write it ahead in the same file, or in another file as a store would
 * prepare its next segment, to show whether that pays for itself while appends run.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nativeIo } from '@keel/core';
import { RawFsLog, ZERO_CHUNK_BYTES } from '../peers/raw-fs.js';
import { makePayloads, RECORD_BYTES_SMALL } from '../records.js';
import type { BenchSystem, Scenario } from '../types.js';
import { keelLog } from './segment-log.js';
import { segmentLogRecordBytes } from './segment-log-bytes.js';
import { bytesPerRun } from './peer-systems.js';

const fdatasyncAsync = promisify(fdatasync);
const writeAsync = promisify(write);
const BATCH_RECORDS = 1000;
const BATCHES_PER_ROUND = 100;
/** How often the background filler syncs what it wrote: a prepared segment is synced before a roll takes it. */
const FILLER_SYNC_BYTES = 8 * ZERO_CHUNK_BYTES;

/** Zeros written at the end of a file on the threadpool, a chunk at a time, each chunk's write started once the last finished. */
class ZeroFiller {
  readonly #fd: number;
  readonly #zeros = Buffer.alloc(ZERO_CHUNK_BYTES);
  #written = 0;
  #owed = 0;
  #draining: Promise<void> = Promise.resolve();
  #active = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'w+');
  }

  /** Asks for `bytes` more zeros (written a whole chunk at a time, the rest carried over). */
  fill(bytes: number): void {
    this.#owed += bytes;
    if (this.#active) return;
    this.#active = true;
    this.#draining = this.#drain();
  }

  /** Resolves once every whole chunk asked for so far is written, and synced where a sync was due. */
  idle(): Promise<void> {
    return this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#owed >= ZERO_CHUNK_BYTES) {
        await writeAsync(this.#fd, this.#zeros, 0, ZERO_CHUNK_BYTES, this.#written);
        this.#written += ZERO_CHUNK_BYTES;
        this.#owed -= ZERO_CHUNK_BYTES;
        if (this.#written % FILLER_SYNC_BYTES === 0) await fdatasyncAsync(this.#fd);
      }
    } finally {
      this.#active = false;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Appends, keeping a MiB of zeros written past the end of the same file, synced by the batches' own fdatasyncs. */
class ZeroAheadLog {
  readonly #fd: number;
  readonly #zeros = Buffer.alloc(ZERO_CHUNK_BYTES);
  #position = 0;
  #zeroedTo = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w+');
  }

  async appendBatchDurably(payloads: readonly Uint8Array[]): Promise<void> {
    const bytes = Buffer.concat(payloads);
    this.#position += writeSync(this.#fd, bytes, 0, bytes.length, this.#position);
    while (this.#zeroedTo < this.#position + ZERO_CHUNK_BYTES) this.#zeroedTo += writeSync(this.#fd, this.#zeros, 0, this.#zeros.length, this.#zeroedTo);
    await fdatasyncAsync(this.#fd);
  }

  close(): void {
    fdatasyncSync(this.#fd);
    closeSync(this.#fd);
  }
}

/** Reserves `bytes` at the start of the file at `path` as keel's `preallocate` does (fallocate, KEEP_SIZE), and syncs it (each round starts after a `sync` besides). */
function reserve(path: string, bytes: number): void {
  const file = nativeIo.open(path, { write: true });
  try {
    if (!file.preallocateSync(0, bytes)) throw new Error(`${path}: the file system cannot reserve space, so there is nothing to measure`);
    file.datasyncSync();
  } finally {
    file.closeSync();
  }
}

const fileSpace: Scenario = {
  name: 'log-file-space',
  backend: 'segment-log',
  description: `segment-log appending durable batches of ${BATCH_RECORDS} 100-byte records, beside node:fs writing its bytes for ${BATCH_RECORDS} 100-byte records per batch, an fdatasync (on the threadpool) per batch: appending; over bytes written and synced before the run; appending into space reserved with fallocate (KEEP_SIZE); appending with the next MiB of zeros kept written ahead in the same file; and over pre-written bytes while another file is zero-filled on the threadpool as fast as the batches use space (a next segment prepared in the background)`,
  unit: 'records/s',
  measure: 'throughput',
  targets: [],
  sizing: (quick) => ({ workPerRound: (quick ? 4 : BATCHES_PER_ROUND) * BATCH_RECORDS, rounds: quick ? 2 : 15, warmupRounds: 1 }),
  async systems(context, sizing) {
    const payloads = makePayloads(BATCH_RECORDS, RECORD_BYTES_SMALL);
    const records = payloads.map((value) => ({ value }));
    const recordBytes = await segmentLogRecordBytes(context, records);
    const framed = makePayloads(BATCH_RECORDS, recordBytes);
    const batches = Array.from({ length: sizing.workPerRound / BATCH_RECORDS }, () => framed);
    const prewrittenBytes = bytesPerRun(sizing, batches);
    const rawFs = (name: string, file: string, prewritten: number, space: { filler?: string; reserved?: boolean } = {}): BenchSystem => {
      let log: RawFsLog | undefined;
      let zeroFiller: ZeroFiller | undefined;
      return {
        name,
        async setup() {
          log = new RawFsLog(context.directory, file, prewritten);
          if (space.reserved === true) reserve(join(context.directory, file), prewrittenBytes);
          if (space.filler !== undefined) zeroFiller = new ZeroFiller(join(context.directory, space.filler));
        },
        // Timed to the last zero written: space prepared at the pace it is used, not left for the next round.
        async run() {
          for (const batch of batches) {
            await log?.appendBatchDurablyAsync(batch);
            zeroFiller?.fill(recordBytes * batch.length);
          }
          await zeroFiller?.idle();
        },
        async teardown() {
          log?.close();
          zeroFiller?.close();
        },
      };
    };
    let zeroAhead: ZeroAheadLog | undefined;
    return [
      // The log whose bytes these are, appending them as the others do (sync() awaited per batch).
      keelLog(join(context.directory, 'segment-log'), async (log) => {
        for (let batch = 0; batch < batches.length; batch++) {
          log.appendBatch(records);
          await log.sync();
        }
      }),
      rawFs('node:fs appending', 'appended.log', 0),
      rawFs('node:fs over pre-written space', 'prewritten.log', prewrittenBytes),
      // What the journal's `preallocate` does: blocks reserved past the end, unwritten, the size unchanged.
      rawFs('node:fs appending into space reserved with fallocate (KEEP_SIZE)', 'reserved.log', 0, { reserved: true }),
      {
        name: 'node:fs appending, 1 MiB of zeros kept ahead in the same file',
        async setup() {
          zeroAhead = new ZeroAheadLog(join(context.directory, 'zero-ahead.log'));
        },
        async run() {
          for (const batch of batches) await zeroAhead?.appendBatchDurably(batch);
        },
        async teardown() {
          zeroAhead?.close();
        },
      },
      rawFs('node:fs over pre-written space, another file zero-filled meanwhile', 'prewritten-filling.log', prewrittenBytes, { filler: 'next-segment.zeros' }),
    ];
  },
};

export const LOG_FILE_SPACE_SCENARIOS: Scenario[] = [fileSpace];
