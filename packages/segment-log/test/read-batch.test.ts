import { statSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES } from '../src/format.js';
import { SegmentLog, type AppendRecord, type LogRecord, type ReadOptions, type RecordBatch } from '../src/index.js';
import { bytes, codeOf, filesEndingWith, flipByte, tempDir } from './helpers.js';

const recordArbitrary: fc.Arbitrary<AppendRecord> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 300 }),
  timestamp: fc.integer({ min: -1000, max: 1_000_000 }),
  headers: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.uint8Array({ maxLength: 8 })), { maxLength: 3 }),
});

const logArbitrary = fc.record({
  records: fc.array(recordArbitrary, { minLength: 1, maxLength: 120 }),
  segmentBytes: fc.integer({ min: 400, max: 6000 }),
  indexIntervalBytes: fc.integer({ min: 1, max: 2000 }),
});

/** Logs of several segments, so that damage can sit where open does not look. */
const sealedLogArbitrary = fc.record({
  records: fc.array(recordArbitrary, { minLength: 20, maxLength: 120 }),
  segmentBytes: fc.integer({ min: 400, max: 2000 }),
  indexIntervalBytes: fc.integer({ min: 1, max: 2000 }),
});

const readArbitrary = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  maxBytes: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
  maxRecords: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
});

/** What a batch says, in `read()`'s shape, to compare field by field. */
function asRecords(batch: RecordBatch): LogRecord[] {
  return Array.from({ length: batch.count }, (_, index) => ({
    offset: batch.offset(index),
    timestamp: batch.timestamp(index),
    key: batch.key(index),
    value: batch.value(index),
    headers: batch.headers(index).map(([name, value]) => [name, value] as [string, Uint8Array]),
  }));
}

type Outcome = { records: LogRecord[] } | { code: string | undefined; path: string | undefined; offset: number | undefined };

function outcomeOf(read: () => LogRecord[]): Outcome {
  try {
    return { records: read() };
  } catch (error) {
    const failure = error as { code?: string; path?: string; offset?: number };
    return { code: failure.code, path: failure.path, offset: failure.offset };
  }
}

async function writeLog(dir: string, log: { records: AppendRecord[]; segmentBytes: number; indexIntervalBytes: number }): Promise<SegmentLog> {
  const opened = await SegmentLog.open(dir, { segmentBytes: log.segmentBytes, indexIntervalBytes: log.indexIntervalBytes, durability: { mode: 'explicit' } });
  // Some records one at a time, the rest in batches: both write paths.
  const half = log.records.length >> 1;
  for (const record of log.records.slice(0, half)) opened.append(record);
  if (half < log.records.length) opened.appendBatch(log.records.slice(half));
  return opened;
}

function optionsOf(read: { maxBytes: number | undefined; maxRecords: number | undefined }): ReadOptions {
  return { ...(read.maxBytes === undefined ? {} : { maxBytes: read.maxBytes }), ...(read.maxRecords === undefined ? {} : { maxRecords: read.maxRecords }) };
}

describe('readBatch', () => {
  it('returns what read() returns: the same offsets, timestamps, keys, values and headers, across segments', async () => {
    await fc.assert(
      fc.asyncProperty(logArbitrary, fc.array(readArbitrary, { minLength: 1, maxLength: 8 }), async (shape, reads) => {
        await using log = await writeLog(tempDir(), shape);
        for (const read of reads) {
          const offset = Math.floor(read.at * log.nextOffset);
          const options = optionsOf(read);
          const batch = log.readBatch(offset, options);
          expect(asRecords(batch)).toEqual(log.read(offset, options));
          expect(batch.nextOffset).toBe(batch.count === 0 ? undefined : offset + batch.count);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses damaged bytes with the same KeelError as read(), naming the same file and byte', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(sealedLogArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), fc.array(readArbitrary, { minLength: 1, maxLength: 6 }), async (shape, where, at, reads) => {
        const dir = tempDir();
        await (await writeLog(dir, shape)).close();
        // A sealed segment: open checks the active one whole and would refuse the damage itself.
        const sealed = filesEndingWith(dir, '.log').slice(0, -1);
        if (sealed.length === 0) return;
        const damaged = sealed[Math.min(sealed.length - 1, Math.floor(where * sealed.length))] as string;
        const size = statSync(damaged).size;
        if (size <= HEADER_BYTES) return;
        flipByte(damaged, HEADER_BYTES + (at % (size - HEADER_BYTES)));
        let log: SegmentLog;
        try {
          log = await SegmentLog.open(dir, { recovery: 'strict' });
        } catch {
          return; // open found the damage itself: nothing to read
        }
        await using opened = log;
        // Besides the random reads, one from the damaged segment's first record, which reaches the damage.
        const damagedBase = Number(basename(damaged).slice(0, 20));
        for (const read of [...reads, undefined]) {
          const offset = read === undefined ? damagedBase : Math.floor(read.at * opened.nextOffset);
          const options = read === undefined ? {} : optionsOf(read);
          const expected = outcomeOf(() => opened.read(offset, options));
          if ('code' in expected) refused++;
          expect(outcomeOf(() => asRecords(opened.readBatch(offset, options)))).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
    // Damage open does not look at (inside sealed segments) must have reached the reads.
    expect(refused).toBeGreaterThan(0);
  });

  it('keeps its views valid after later appends, rolls and retention', async () => {
    await using log = await SegmentLog.open(tempDir(), { segmentBytes: 300 });
    log.append({ value: bytes('keep me'), key: bytes('k'), timestamp: 1, headers: [['h', bytes('v')]] });
    const batch = log.readBatch(0);
    const value = batch.value(0);
    for (let index = 0; index < 30; index++) log.append({ value: bytes('x'.repeat(40)), timestamp: 2 });
    await log.deleteBefore(25);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(new TextDecoder().decode(value)).toBe('keep me');
    expect(new TextDecoder().decode(batch.value(0))).toBe('keep me');
    expect(new TextDecoder().decode(batch.key(0)!)).toBe('k');
    expect(batch.headers(0).map(([name, header]) => [name, new TextDecoder().decode(header)])).toEqual([['h', 'v']]);
  });

  it('returns what read() returns when released batches lend their buffers to later reads, and kept batches stay intact', async () => {
    const step = fc.record({ read: readArbitrary, release: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(logArbitrary, fc.array(step, { minLength: 1, maxLength: 12 }), async (shape, steps) => {
        await using log = await writeLog(tempDir(), shape);
        const kept: { batch: RecordBatch; records: LogRecord[]; values: Uint8Array[] }[] = [];
        for (const { read, release } of steps) {
          const offset = Math.floor(read.at * log.nextOffset);
          const options = optionsOf(read);
          const batch = log.readBatch(offset, options);
          const records = asRecords(batch);
          expect(records).toEqual(log.read(offset, options));
          if (release) batch.release();
          else kept.push({ batch, records: structuredClone(records), values: records.map((record) => record.value) });
        }
        for (const { batch, records, values } of kept) {
          expect(asRecords(batch)).toEqual(records);
          expect(values).toEqual(records.map((record) => record.value));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses every use once released (KEEL_CLOSED), releases once, and works with using', async () => {
    await using log = await SegmentLog.open(tempDir());
    log.appendBatch([{ value: bytes('a') }, { value: bytes('b') }]);
    const batch = log.readBatch(0);
    expect(batch.count).toBe(2);
    batch.release();
    batch.release();
    for (const use of [() => batch.count, () => batch.nextOffset, () => batch.offset(0), () => batch.timestamp(0), () => batch.value(0), () => batch.key(0), () => batch.headers(0)]) {
      expect(await codeOf(use)).toBe('KEEL_CLOSED');
    }
    let disposed: RecordBatch;
    {
      using scoped = log.readBatch(1);
      disposed = scoped;
      expect(new TextDecoder().decode(scoped.value(0))).toBe('b');
    }
    expect(await codeOf(() => disposed.count)).toBe('KEEL_CLOSED');
    // The released buffers serve the next read, which returns its own records.
    expect(asRecords(log.readBatch(0))).toEqual(log.read(0));
  });

  it("refuses to release a scan's batch, which the scan lends", async () => {
    await using log = await SegmentLog.open(tempDir());
    log.append({ value: bytes('a') });
    for await (const batch of log.scan()) {
      expect(await codeOf(() => batch.release())).toBe('KEEL_BAD_ARGUMENT');
      expect(batch.count).toBe(1);
    }
  });

  it('checks its arguments and its indexes like read()', async () => {
    await using log = await SegmentLog.open(tempDir());
    log.appendBatch([{ value: bytes('a') }, { value: bytes('b') }]);
    expect(log.readBatch(2).count).toBe(0);
    expect(await codeOf(() => log.readBatch(3))).toBe('KEEL_NOT_FOUND');
    expect(await codeOf(() => log.readBatch(0, { maxBytes: 0 }))).toBe('KEEL_BAD_ARGUMENT');
    expect(await codeOf(() => log.readBatch(-1))).toBe('KEEL_BAD_ARGUMENT');
    const batch = log.readBatch(0);
    expect(batch.count).toBe(2);
    for (const index of [-1, 2, 0.5, Number.NaN]) expect(await codeOf(() => batch.value(index))).toBe('KEEL_BAD_ARGUMENT');
    expect(batch.key(1)).toBeNull();
    expect(batch.headers(1)).toEqual([]);
  });
});
