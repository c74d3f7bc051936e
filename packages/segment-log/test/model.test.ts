import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentLog, type AppendRecord, type SegmentLogOptions } from '../src/index.js';
import { tempDir } from './helpers.js';

interface ModelRecord {
  key: number[] | null;
  value: number[];
  timestamp: number;
  headers: [string, number[]][];
}

type Command =
  | { kind: 'append'; record: ModelRecord }
  | { kind: 'appendBatch'; records: ModelRecord[] }
  | { kind: 'sync' }
  | { kind: 'deleteBefore'; fraction: number }
  | { kind: 'enforceRetention' }
  | { kind: 'reopen' }
  | { kind: 'seekTimestamp'; timestamp: number };

const recordArbitrary: fc.Arbitrary<ModelRecord> = fc.record({
  key: fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }), { nil: null }),
  value: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
  // Mostly rising, sometimes backwards: the time index must cope with both.
  timestamp: fc.integer({ min: 0, max: 1000 }),
  headers: fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 })), { maxLength: 2 }),
});

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: recordArbitrary.map((record) => ({ kind: 'append' as const, record })) },
  { weight: 3, arbitrary: fc.array(recordArbitrary, { minLength: 1, maxLength: 12 }).map((records) => ({ kind: 'appendBatch' as const, records })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((fraction) => ({ kind: 'deleteBefore' as const, fraction })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'enforceRetention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 1005 }).map((timestamp) => ({ kind: 'seekTimestamp' as const, timestamp })) },
);

function toAppend(record: ModelRecord): AppendRecord {
  return {
    value: Uint8Array.from(record.value),
    key: record.key === null ? null : Uint8Array.from(record.key),
    timestamp: record.timestamp,
    headers: record.headers.map(([name, value]) => [name, Uint8Array.from(value)] as const),
  };
}

const OPTIONS: SegmentLogOptions = { segmentBytes: 400, indexIntervalBytes: 90, retention: { bytes: 1500 }, durability: { mode: 'explicit' } };

function check(log: SegmentLog, model: ModelRecord[]): void {
  expect(log.nextOffset).toBe(model.length);
  const start = log.startOffset;
  const read = log.read(start, { maxBytes: 1 << 20 });
  expect(read.map((record) => record.offset)).toEqual(model.slice(start).map((_, index) => start + index));
  for (const record of read) {
    const expected = model[record.offset] as ModelRecord;
    expect(record.key === null ? null : [...record.key]).toEqual(expected.key);
    expect([...record.value]).toEqual(expected.value);
    expect(record.timestamp).toBe(expected.timestamp);
    expect(record.headers.map(([name, value]) => [name, [...value]])).toEqual(expected.headers);
  }
}

async function run(commands: Command[]): Promise<void> {
  const dir = tempDir();
  const model: ModelRecord[] = [];
  let log = await SegmentLog.open(dir, OPTIONS);
  try {
    for (const command of commands) {
      const startBefore = log.startOffset;
      switch (command.kind) {
        case 'append':
          expect(log.append(toAppend(command.record))).toBe(model.length);
          model.push(command.record);
          break;
        case 'appendBatch':
          expect(log.appendBatch(command.records.map(toAppend))).toBe(model.length);
          model.push(...command.records);
          break;
        case 'sync':
          expect(await log.sync()).toBe(model.length);
          break;
        case 'deleteBefore': {
          const target = Math.floor(command.fraction * model.length);
          await log.deleteBefore(target);
          const [first] = log.segments();
          expect(first!.sealed === false || first!.baseOffset + first!.records > target).toBe(true);
          break;
        }
        case 'enforceRetention':
          await log.enforceRetention();
          expect(log.stats().bytes <= 1500 || log.segments().length === 1).toBe(true);
          break;
        case 'reopen':
          await log.close();
          log = await SegmentLog.open(dir, OPTIONS);
          expect(log.recovery.tailState).toBe('clean-end');
          expect(log.recovery.actions.filter((action) => action.kind !== 'removed-file')).toEqual([]);
          break;
        case 'seekTimestamp': {
          const start = log.startOffset;
          const index = model.slice(start).findIndex((record) => record.timestamp >= command.timestamp);
          expect(log.offsetForTimestamp(command.timestamp)).toBe(index < 0 ? undefined : start + index);
          break;
        }
      }
      expect(log.startOffset).toBeGreaterThanOrEqual(startBefore);
      check(log, model);
    }
    await log.verify();
  } finally {
    await log.close();
  }
}

describe('model', () => {
  it('matches an in-memory model through appends, rolls, retention and reopen', async () => {
    await fc.assert(fc.asyncProperty(fc.array(commandArbitrary, { minLength: 5, maxLength: 40 }), run), { numRuns: 40 });
  });
});
