import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, tempDir, text } from './helpers.js';

describe('append and read', () => {
  it('round-trips keys, null keys, empty values and headers', async () => {
    const dir = tempDir();
    await using log = await SegmentLog.open(dir, { durability: { mode: 'explicit' } });
    expect(log.append({ value: bytes('first'), key: bytes('k1'), timestamp: 10 })).toBe(0);
    expect(log.append({ value: new Uint8Array(0), timestamp: 11 })).toBe(1);
    expect(log.append({ value: bytes('h'), key: new Uint8Array(0), timestamp: 12, headers: [['trace', bytes('abc')], ['é', new Uint8Array(0)]] })).toBe(2);
    const records = log.read(0);
    expect(records.map((record) => record.offset)).toEqual([0, 1, 2]);
    expect(text(records[0]!.key)).toBe('k1');
    expect(text(records[0]!.value)).toBe('first');
    expect(records[1]!.key).toBeNull();
    expect(records[1]!.value.length).toBe(0);
    expect(records[2]!.key).toEqual(new Uint8Array(0));
    expect(records[2]!.headers.map(([name, value]) => [name, text(value)])).toEqual([['trace', 'abc'], ['é', '']]);
    expect(records.map((record) => record.timestamp)).toEqual([10, 11, 12]);
    expect(await log.sync()).toBe(3);
    expect(log.durableOffset).toBe(3);
  });

  it('keeps everything across reopen, with appendBatch spanning segments', async () => {
    const dir = tempDir();
    const values = Array.from({ length: 200 }, (_, index) => ({ value: bytes(`value-${index}`), key: index % 3 === 0 ? null : bytes(`k${index}`), timestamp: 1000 + index }));
    {
      await using log = await SegmentLog.open(dir, { segmentBytes: 512, indexIntervalBytes: 64 });
      expect(log.appendBatch(values.slice(0, 150))).toBe(0);
      expect(log.appendBatch(values.slice(150))).toBe(150);
      expect(log.segments().length).toBeGreaterThan(5);
      expect(log.read(0, { maxRecords: 1000, maxBytes: 1 << 20 }).length).toBe(200);
    }
    await using log = await SegmentLog.open(dir, { segmentBytes: 512, indexIntervalBytes: 64 });
    expect(log.recovery.actions).toEqual([]);
    expect(log.nextOffset).toBe(200);
    for (const offset of [0, 1, 57, 133, 199]) {
      const [record] = log.read(offset, { maxRecords: 1 });
      expect(record!.offset).toBe(offset);
      expect(text(record!.value)).toBe(`value-${offset}`);
      expect(record!.timestamp).toBe(1000 + offset);
    }
    const report = await log.verify();
    expect(report.records).toBe(200);
  });
});
