import { statSync, truncateSync } from 'node:fs';
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

  it("lets a scan's batch leave a using scope: the scan keeps lending it", async () => {
    await using log = await SegmentLog.open(tempDir(), { segmentBytes: 4096 });
    const values = Array.from({ length: 400 }, (_, index) => bytes(`value ${index}`));
    log.appendBatch(values.map((value) => ({ value })));
    const seen: string[] = [];
    for await (using batch of log.scan()) {
      for (let index = 0; index < batch.count; index++) seen.push(new TextDecoder().decode(batch.value(index)));
    }
    expect(seen).toEqual(values.map((value) => new TextDecoder().decode(value)));
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

/** The ArrayBuffers under the byte arrays of `records` (values, keys, header values). */
function buffersOf(records: readonly LogRecord[]): Set<ArrayBufferLike> {
  const buffers = new Set<ArrayBufferLike>();
  for (const record of records) {
    buffers.add(record.value.buffer);
    if (record.key !== null) buffers.add(record.key.buffer);
    for (const [, value] of record.headers) buffers.add(value.buffer);
  }
  return buffers;
}

/** What a test step does to the log between reads. */
const stepArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), records: fc.array(recordArbitrary, { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retain' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('readBatch' as const), read: readArbitrary, keep: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), which: fc.nat(), twice: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), read: readArbitrary }) },
);

/** A batch the test keeps unreleased: what it held when read, the views then taken, and the buffers under them. */
interface Kept {
  batch: RecordBatch;
  records: LogRecord[];
  views: LogRecord[];
  buffers: Set<ArrayBufferLike>;
}

describe('readBatch with released batches', () => {
  it('never lends a buffer a batch not released still uses, nor one of read(): kept batches stay intact through appends, rolls, retention and releases', async () => {
    await fc.assert(
      fc.asyncProperty(logArbitrary, fc.array(stepArbitrary, { minLength: 1, maxLength: 30 }), async (shape, steps) => {
        await using log = await writeLog(tempDir(), shape);
        const kept: Kept[] = [];
        const released: RecordBatch[] = [];
        // Every buffer a readBatch() batch ever held: read() must never hand one out.
        const lent = new Set<ArrayBufferLike>();
        const offsetAt = (at: number): number => log.startOffset + Math.floor(at * (log.nextOffset - log.startOffset));
        for (const step of steps) {
          if (step.kind === 'append') {
            log.appendBatch(step.records);
          } else if (step.kind === 'roll') {
            log.roll();
          } else if (step.kind === 'retain') {
            await log.deleteBefore(offsetAt(step.at));
          } else if (step.kind === 'release') {
            const [releasing] = kept.splice(step.which % Math.max(1, kept.length), 1);
            releasing?.batch.release();
            if (releasing !== undefined) released.push(releasing.batch);
            // A batch released again gives nothing back a second time.
            if (step.twice) released[step.which % Math.max(1, released.length)]?.release();
          } else {
            const offset = offsetAt(step.read.at);
            const options = optionsOf(step.read);
            const expected = log.read(offset, options);
            for (const buffer of buffersOf(expected)) expect(lent.has(buffer)).toBe(false);
            if (step.kind === 'read') continue;
            const batch = log.readBatch(offset, options);
            const views = asRecords(batch);
            expect(views).toEqual(expected);
            const buffers = buffersOf(views);
            for (const other of kept) for (const buffer of buffers) expect(other.buffers.has(buffer)).toBe(false);
            for (const buffer of buffers) lent.add(buffer);
            if (step.keep) {
              kept.push({ batch, records: structuredClone(views), views, buffers });
            } else {
              batch.release();
              released.push(batch);
            }
          }
          for (const { batch, records, views } of kept) {
            expect(views).toEqual(records);
            expect(asRecords(batch)).toEqual(records);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuses damaged or cut-short bytes as read() does when released buffers still hold the frames that were there', async () => {
    let refused = 0;
    const damageArbitrary = fc.record({ where: fc.double({ min: 0, max: 1, noNaN: true }), at: fc.nat(), cut: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(sealedLogArbitrary, damageArbitrary, fc.array(readArbitrary, { minLength: 1, maxLength: 6 }), async (shape, { where, at, cut }, reads) => {
        const dir = tempDir();
        await using log = await writeLog(dir, shape);
        const sealed = filesEndingWith(dir, '.log').slice(0, -1);
        if (sealed.length === 0) return;
        const damaged = sealed[Math.min(sealed.length - 1, Math.floor(where * sealed.length))] as string;
        const size = statSync(damaged).size;
        if (size <= HEADER_BYTES) return;
        const damagedBase = Number(basename(damaged).slice(0, 20));
        // The whole log read in batches that are released, the damaged segment last and whole:
        // the pool now holds its bytes as they were, at the positions a read of it fills first.
        for (let offset = log.startOffset; offset < log.nextOffset; ) {
          const batch = log.readBatch(offset, { maxBytes: 1 + (at % 4000) });
          offset = batch.nextOffset!;
          batch.release();
        }
        log.readBatch(damagedBase, { maxBytes: size }).release();
        // Under the open log: a read now meets bytes that differ from those the pool's buffers hold.
        if (cut) truncateSync(damaged, HEADER_BYTES + (at % (size - HEADER_BYTES)));
        else flipByte(damaged, HEADER_BYTES + (at % (size - HEADER_BYTES)));
        for (const read of [undefined, ...reads]) {
          const offset = read === undefined ? damagedBase : Math.floor(read.at * log.nextOffset);
          const options = read === undefined ? {} : optionsOf(read);
          const expected = outcomeOf(() => log.read(offset, options));
          if ('code' in expected) refused++;
          expect(
            outcomeOf(() => {
              const batch = log.readBatch(offset, options);
              const records = structuredClone(asRecords(batch));
              batch.release();
              return records;
            }),
          ).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
    expect(refused).toBeGreaterThan(0);
  });
});
