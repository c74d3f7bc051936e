import { nativeIo } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { bytes, codeOf, faultyIo, newFaults, tempDir, text } from './helpers.js';

describe('poisoning', () => {
  it('a failed fdatasync fails the sync and poisons every later write', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const log = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults), durability: { mode: 'explicit' } });
    log.append({ value: bytes('durable'), timestamp: 1 });
    expect(await log.sync()).toBe(1);
    log.append({ value: bytes('lost'), timestamp: 2 });
    faults.failSync = true;
    expect(await codeOf(() => log.sync())).toBe('KEEL_IO');
    faults.failSync = false;
    expect(await codeOf(() => log.append({ value: bytes('after') }))).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.sync())).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.deleteBefore(1))).toBe('KEEL_POISONED');
    expect(log.durableOffset).toBe(1);
    expect(log.stats().poisoned).toBe(true);
    // Reads of what is there stay allowed.
    expect(log.read(0).length).toBe(2);
    // close cannot end with its final sync: it says so, and still releases the lock.
    expect(await codeOf(() => log.close())).toBe('KEEL_POISONED');
    await using reopened = await SegmentLog.open(dir);
    expect(text(reopened.read(0)[0]!.value)).toBe('durable');
  });

  it('a failed write poisons the log', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const log = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults) });
    faults.failWrite = true;
    expect(await codeOf(() => log.append({ value: bytes('x') }))).toBe('KEEL_IO');
    faults.failWrite = false;
    expect(await codeOf(() => log.append({ value: bytes('y') }))).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.close())).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.close())).toBe('KEEL_POISONED');
  });

  it('a failed sync of a roll poisons the log (every-write durability)', async () => {
    const dir = tempDir();
    const faults = newFaults();
    const log = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults), segmentBytes: 200, durability: { mode: 'every-write' } });
    log.append({ value: bytes('x'.repeat(100)), timestamp: 1 });
    faults.failSync = true;
    // The roll syncs nothing on the calling thread: the flush it asks for fails, off the event loop.
    log.append({ value: bytes('y'.repeat(100)), timestamp: 2 });
    expect(log.segments()).toHaveLength(2);
    expect(await codeOf(() => log.sync())).toBe('KEEL_IO');
    faults.failSync = false;
    expect(await codeOf(() => log.append({ value: bytes('z') }))).toBe('KEEL_POISONED');
    expect(await codeOf(() => log.close())).toBe('KEEL_POISONED');
    // Under 'none' too: close promises no sync there, but the failed write must not go unheard.
    const quiet = await SegmentLog.open(dir, { io: faultyIo(nativeIo, faults), durability: { mode: 'none' } });
    faults.failWrite = true;
    expect(await codeOf(() => quiet.append({ value: bytes('x') }))).toBe('KEEL_IO');
    faults.failWrite = false;
    expect(await codeOf(() => quiet.close())).toBe('KEEL_POISONED');
  });
});
