import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, filesEndingWith, tempDir, text } from './helpers.js';

const OPTIONS = { segmentBytes: 2048, indexIntervalBytes: 100 };

async function filledLog(dir: string): Promise<void> {
  await using log = await SegmentLog.open(dir, OPTIONS);
  for (let index = 0; index < 120; index++) log.append({ value: bytes(`value-${index}`.padEnd(40, '.')), timestamp: 5000 + (index % 7 === 0 ? -index : index) });
  await log.sync();
}

async function expectIntact(dir: string, damaged: string): Promise<void> {
  await using log = await SegmentLog.open(dir, OPTIONS);
  expect(log.recovery.actions).toContainEqual(expect.objectContaining({ kind: 'rebuilt-index' }));
  expect(log.recovery.actions.some((action) => action.path.startsWith(damaged.replace(/\.(time)?index$/, '')))).toBe(true);
  const records = log.read(0, { maxRecords: 1000 });
  expect(records.map((record) => text(record.value)!.split('.')[0])).toEqual(Array.from({ length: 120 }, (_, index) => `value-${index}`));
  expect(log.offsetForTimestamp(5100)).toBe(100);
  await log.verify();
}

describe('index rebuild', () => {
  it('rebuilds a deleted sealed .index and writes back the same bytes', async () => {
    const dir = tempDir();
    await filledLog(dir);
    const target = filesEndingWith(dir, '.index')[1]!;
    const original = readFileSync(target);
    expect(original.length).toBeGreaterThan(0);
    rmSync(target);
    await expectIntact(dir, target);
    expect(readFileSync(target)).toEqual(original);
    // A second open finds nothing to do.
    await using again = await SegmentLog.open(dir, OPTIONS);
    expect(again.recovery.actions).toEqual([]);
  });

  it('rebuilds a .timeindex with a torn entry', async () => {
    const dir = tempDir();
    await filledLog(dir);
    const target = filesEndingWith(dir, '.timeindex')[0]!;
    truncateSync(target, readFileSync(target).length - 5);
    await expectIntact(dir, target);
  });

  it('rebuilds an .index whose last entry points between frames', async () => {
    const dir = tempDir();
    await filledLog(dir);
    const target = filesEndingWith(dir, '.index')[0]!;
    const data = readFileSync(target);
    const last = data.length - 8;
    data.writeUInt32LE(data.readUInt32LE(last + 4) + 3, last + 4);
    writeFileSync(target, data);
    await expectIntact(dir, target);
  });

  it('rebuilds a .timeindex whose entry names the wrong timestamp', async () => {
    const dir = tempDir();
    await filledLog(dir);
    const target = filesEndingWith(dir, '.timeindex')[0]!;
    const data = readFileSync(target);
    data.writeUInt32LE(data.readUInt32LE(data.length - 12) + 1, data.length - 12);
    writeFileSync(target, data);
    await expectIntact(dir, target);
  });

  it("rebuilds the active segment's indexes when they are garbage", async () => {
    const dir = tempDir();
    await filledLog(dir);
    const target = filesEndingWith(dir, '.index').at(-1)!;
    writeFileSync(target, Buffer.alloc(24, 0xab));
    await expectIntact(dir, target);
  });
});
