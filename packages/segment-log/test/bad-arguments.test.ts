import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORD_BYTES_MAX, SegmentLog } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

describe('bad arguments', () => {
  it('refuses bad options before touching disk', async () => {
    const dir = join(tempDir(), 'never-created');
    for (const options of [
      { segmentBytes: 10 },
      { segmentBytes: 1.5 },
      { segmentMs: 0 },
      { indexIntervalBytes: -1 },
      { durability: { mode: 'sometimes' } },
      { retention: { bytes: -1 } },
      { recovery: 'optimistic' },
      { io: 42 },
    ]) {
      expect(await codeOf(() => SegmentLog.open(dir, options as never))).toBe('KEEL_BAD_ARGUMENT');
    }
    expect(await codeOf(() => SegmentLog.open('' as never))).toBe('KEEL_BAD_ARGUMENT');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses bad records, reads and offsets with typed errors and writes nothing', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir);
    log.append({ value: bytes('ok'), timestamp: 1 });
    const cases: [() => unknown, string][] = [
      [() => log.append({ value: 'text' } as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.append(null as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.append({ value: bytes('x'), key: 'k' } as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.append({ value: bytes('x'), timestamp: 1.5 }), 'KEEL_BAD_ARGUMENT'],
      [() => log.append({ value: bytes('x'), headers: [['h', 'v']] } as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.append({ value: bytes('x'), headers: {} } as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.append({ value: new Uint8Array(RECORD_BYTES_MAX) }), 'KEEL_TOO_LARGE'],
      [() => log.append({ value: bytes('x'), headers: [['n'.repeat(2000), bytes('')]] }), 'KEEL_TOO_LARGE'],
      [() => log.appendBatch([{ value: bytes('fine') }, { value: 7 } as never]), 'KEEL_BAD_ARGUMENT'],
      [() => log.appendBatch('nope' as never), 'KEEL_BAD_ARGUMENT'],
      [() => log.read(-1), 'KEEL_BAD_ARGUMENT'],
      [() => log.read(0, { maxBytes: 0 }), 'KEEL_BAD_ARGUMENT'],
      [() => log.read(0, { maxRecords: 1.5 }), 'KEEL_BAD_ARGUMENT'],
      [() => log.read(5), 'KEEL_NOT_FOUND'],
      [() => log.offsetForTimestamp(Number.NaN), 'KEEL_BAD_ARGUMENT'],
      [() => log.deleteBefore(-3), 'KEEL_BAD_ARGUMENT'],
      [() => log.stream({ from: 9 }), 'KEEL_NOT_FOUND'],
      [() => log.stream({ signal: 'stop' } as never), 'KEEL_BAD_ARGUMENT'],
    ];
    for (const [call, code] of cases) expect(await codeOf(call)).toBe(code);
    // The batch with one bad record wrote nothing.
    expect(log.nextOffset).toBe(1);
    expect(log.appendBatch([])).toBe(1);
  });

  it('refuses use after close', async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir);
    await log.close();
    for (const call of [() => log.append({ value: bytes('x') }), () => log.read(0), () => log.sync(), () => log.segments(), () => log.enforceRetention(), () => log.verify(), () => log.stream()]) {
      expect(await codeOf(call)).toBe('KEEL_CLOSED');
    }
  });

  it('refuses a directory whose segment file is not ours and leaves it untouched', async () => {
    const dir = tempDir();
    const foreign = join(dir, '00000000000000000000.log');
    writeFileSync(foreign, 'this is somebody else\'s log file, not a keel segment');
    const before = readFileSync(foreign);
    expect(await codeOf(() => SegmentLog.open(dir))).toBe('KEEL_CORRUPT');
    expect(readFileSync(foreign)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['00000000000000000000.log']);
  });
});
