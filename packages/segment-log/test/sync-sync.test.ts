import { nativeIo } from '@keel/core';
import { runSyncSyncCrashPoints } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, codeOf, faultyIo, newFaults, tempDir, text } from './helpers.js';

const durability = { mode: 'explicit' } as const;

describe('syncSync', () => {
  it('makes every record appended so far durable before it returns, across a roll', async () => {
    const dir = tempDir();
    const log = await SegmentLog.open(dir, { durability, segmentBytes: 256 });
    for (let i = 0; i < 20; i++) log.append({ value: bytes(`record ${i}`), timestamp: i });
    expect(log.stats().segments).toBeGreaterThan(1);
    expect(log.syncSync()).toBe(20);
    expect(log.durableOffset).toBe(20);
    const flushes = log.stats().flushes;
    expect(log.syncSync()).toBe(20);
    expect(log.stats().flushes).toBe(flushes);
    await log.close();
    expect(await codeOf(() => log.syncSync())).toBe('KEEL_CLOSED');
  });

  it('a failed synchronous fdatasync poisons the log and the async waiters', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const log = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults), durability });
    log.append({ value: bytes('durable'), timestamp: 1 });
    expect(log.syncSync()).toBe(1);
    log.append({ value: bytes('lost'), timestamp: 2 });
    const waiting = log.sync();
    faults.failSync = true;
    expect(await codeOf(() => log.syncSync())).toBe('KEEL_IO');
    expect(await codeOf(() => waiting)).toBe('KEEL_IO');
    faults.failSync = false;
    expect(await codeOf(() => log.append({ value: bytes('after') }))).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.syncSync())).toBe('KEEL_POISONED');
    expect(log.durableOffset).toBe(1);
    expect(await codeOf(() => log.close())).toBe('KEEL_POISONED');
    await using reopened = await SegmentLog.open(dir);
    expect(text(reopened.read(0)[0]!.value)).toBe('durable');
  });

  it('every record acknowledged durable survives a crash at every disk operation', async () => {
    const points = await runSyncSyncCrashPoints<SegmentLog>({
      open: (io, dir) => SegmentLog.open(dir, { io, durability, segmentBytes: 512, indexIntervalBytes: 64, now: () => 1_700_000_000_000 }),
      append: (log, payloads) => void log.appendBatch(payloads.map((value) => ({ value }))),
      syncSync: (log) => void log.syncSync(),
      sync: (log) => log.sync(),
      read: (log) => (log.nextOffset === log.startOffset ? [] : log.read(log.startOffset, { maxBytes: 1 << 24 }).map((record) => record.value)),
      close: (log) => log.close(),
    });
    expect(points).toBeGreaterThan(10);
  });
});
