import { FaultFs } from '@keel/conformance';
import { parentDir } from '@keel/core';
import { expect } from 'vitest';
import { PREPARED_SEGMENT_NAME } from '../../src/format.js';
import type { SegmentLog } from '../../src/index.js';

/** Records whose value is their 8-byte id (12 bytes each in a batch frame: see id-frames.ts), for crash tests that check order and count. */
export function record(id: number): { value: Uint8Array } {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setFloat64(0, id, true);
  return { value };
}

export function idOf(value: Uint8Array): number {
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(0, true);
}

/**
 * A log reopened after a crash holds ids 0, 1, … in order, at least `required` of them,
 * and takes a write after them that is itself durable. Closes the log.
 */
export async function expectReopened(log: SegmentLog, required: number): Promise<void> {
  try {
    const ids = log.read(log.startOffset, { maxBytes: 1 << 20 }).map((found) => idOf(found.value));
    expect(ids).toEqual(ids.map((_, index) => index));
    expect(ids.length).toBeGreaterThanOrEqual(required);
    log.appendBatch([record(ids.length)]);
    expect(await log.sync()).toBe(ids.length + 1);
  } finally {
    await log.close();
  }
}

/**
 * Ids 0, 1 and 2 appended and synced, then the next segment's file prepared: background
 * work runs one task at a time, so a retention pass (no limits) ends after it. `files` is
 * the disk's listing, to check the prepared file is there.
 */
export async function threeSyncedThenPrepared(log: SegmentLog, files: () => Map<string, Uint8Array>, dir: string): Promise<void> {
  log.appendBatch([0, 1, 2].map(record));
  expect(await log.sync()).toBe(3);
  expect(await log.enforceRetention()).toBe(0);
  expect(files().has(`${dir}/${PREPARED_SEGMENT_NAME}`)).toBe(true);
}

/**
 * A fresh disk with `dir` durably made, a log opened on it through `wrap`'s Io, and
 * `threeSyncedThenPrepared` done: the start of the crash tests around a roll.
 */
export async function preparedLogOn<I>(dir: string, wrap: (fs: FaultFs) => I, open: (io: I) => Promise<SegmentLog>): Promise<{ fs: FaultFs; io: I; log: SegmentLog }> {
  const fs = new FaultFs();
  fs.mkdir(dir);
  fs.syncDirSync(parentDir(dir));
  const io = wrap(fs);
  const log = await open(io);
  await threeSyncedThenPrepared(log, () => fs.files(), dir);
  return { fs, io, log };
}
