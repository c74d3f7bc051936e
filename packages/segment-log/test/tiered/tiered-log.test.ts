// A tiered log against an in-memory store: sealed segments are copied in the background,
// local retention deletes only copied segments, every offset stays readable through the
// same API, total retention deletes remote copies, and damaged remote bytes are refused.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { RemoteSegmentLog, SegmentLog, type SegmentLogOptions } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { MemoryRemoteStore } from '../support/memory-remote-store.js';

const SEGMENT_BYTES = 8 * 1024;
const T0 = 1_700_000_000_000;

function options(remote: MemoryRemoteStore, extra: Partial<SegmentLogOptions> = {}, localBytes = 3 * SEGMENT_BYTES): SegmentLogOptions {
  return {
    durability: { mode: 'explicit' },
    segmentBytes: SEGMENT_BYTES,
    indexIntervalBytes: 512,
    tiered: { remote, prefix: 'logs/a/', localRetention: { bytes: localBytes }, backoffBaseMs: 1, backoffMaxMs: 5 },
    ...extra,
  };
}

function value(offset: number): Buffer {
  return Buffer.from(`record ${offset} `.repeat(1 + (offset % 7)));
}

async function filled(remote: MemoryRemoteStore, count: number, extra: Partial<SegmentLogOptions> = {}): Promise<{ dir: string; log: SegmentLog }> {
  const dir = tempDir();
  const log = await SegmentLog.open(dir, options(remote, extra));
  for (let offset = 0; offset < count; offset += 50) {
    log.appendBatch(Array.from({ length: Math.min(50, count - offset) }, (_, index) => ({ value: value(offset + index), timestamp: T0 + offset + index })));
    await log.sync();
  }
  await log.offloaded();
  await log.enforceRetention();
  return { dir, log };
}

async function readAll(log: { readAsync(offset: number): Promise<{ offset: number; value: Uint8Array | null }[]>; nextOffset: number }, from: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let next = from; next < log.nextOffset;) {
    for (const record of await log.readAsync(next)) {
      expect(Buffer.from(record.value!).equals(value(record.offset))).toBe(true);
      offsets.push(record.offset);
      next = record.offset + 1;
    }
  }
  return offsets;
}

describe('tiered segment log', () => {
  it('offloads sealed segments, keeps only local retention on disk, and reads every offset back', async () => {
    const remote = new MemoryRemoteStore();
    const { dir, log } = await filled(remote, 2000);
    const stats = log.stats();
    expect(log.startOffset).toBe(0);
    expect(log.localStartOffset).toBeGreaterThan(0);
    expect(stats.tiered).toMatchObject({ failedTries: 0, queued: 0 });
    expect(stats.tiered!.remoteSegments).toBeGreaterThan(3);
    expect(log.segments().reduce((sum, segment) => sum + segment.bytes, 0)).toBeLessThanOrEqual(3 * SEGMENT_BYTES + SEGMENT_BYTES);
    expect(existsSync(`${dir}/00000000000000000000.log`)).toBe(false);

    expect(await readAll(log, 0)).toEqual(Array.from({ length: 2000 }, (_, index) => index));
    const streamed: number[] = [];
    for await (const record of log.stream({ from: 5 })) streamed.push(record.offset);
    expect(streamed).toEqual(Array.from({ length: 1995 }, (_, index) => index + 5));
    expect(await log.offsetForTimestampAsync(T0 + 17)).toBe(17);
    expect(await log.offsetForTimestampAsync(T0 + 1999)).toBe(1999);
    expect(await log.offsetForTimestampAsync(T0 + 5000)).toBeUndefined();
    expect(() => log.read(0)).toThrow(expect.objectContaining({ code: 'KEEL_UNSUPPORTED' }));
    expect(() => log.offsetForTimestamp(T0)).toThrow(expect.objectContaining({ code: 'KEEL_UNSUPPORTED' }));

    // A read-only open beside the writer replays the journal without changing it.
    const view = await SegmentLog.open(dir, { readOnly: true, tiered: { remote, prefix: 'logs/a/' } });
    expect(view.startOffset).toBe(0);
    expect((await view.readAsync(3, { maxRecords: 1 }))[0]!.offset).toBe(3);
    await view.close();
    await log.close();

    // The offload journal is replayed on open: the remote part is still there.
    const reopened = await SegmentLog.open(dir, options(remote));
    expect(reopened.startOffset).toBe(0);
    expect(await readAll(reopened, 0)).toHaveLength(2000);
    await reopened.close();

    // A reader with only the bucket and prefix sees every offloaded segment.
    const reader = await RemoteSegmentLog.open({ remote, prefix: 'logs/a/' });
    expect(reader.startOffset).toBe(0);
    expect(reader.nextOffset).toBeGreaterThan(1000);
    const remoteOffsets: number[] = [];
    for await (const record of reader.stream()) remoteOffsets.push(record.offset);
    expect(remoteOffsets).toEqual(Array.from({ length: reader.nextOffset }, (_, index) => index));
    expect(await reader.offsetForTimestamp(T0 + 3)).toBe(3);
    await reader.close();
  });

  it('a close right after rolls (its final flush seals them) loses nothing; the next open copies them', async () => {
    const remote = new MemoryRemoteStore();
    const dir = tempDir();
    const log = await SegmentLog.open(dir, options(remote, {}, 0));
    for (let offset = 0; offset < 300; offset += 50) {
      log.appendBatch(Array.from({ length: 50 }, (_, index) => ({ value: value(offset + index), timestamp: T0 + offset + index })));
    }
    await log.close();
    const reopened = await SegmentLog.open(dir, options(remote, {}, 0));
    await reopened.offloaded();
    await reopened.enforceRetention();
    expect(reopened.localStartOffset).toBe(reopened.segments().at(-1)!.baseOffset);
    expect(reopened.localStartOffset).toBeGreaterThan(0);
    expect(await readAll(reopened, 0)).toHaveLength(300);
    await reopened.close();
  });

  it('total retention deletes remote copies, oldest first, and their objects', async () => {
    const remote = new MemoryRemoteStore();
    const { log } = await filled(remote, 2000);
    const before = log.stats().tiered!.remoteSegments;
    await log.close();
    const { log: trimmed } = await filled(remote, 2000, { retention: { bytes: 6 * SEGMENT_BYTES }, tiered: { ...options(remote).tiered!, prefix: 'logs/b/' } });
    await trimmed.offloaded();
    const start = trimmed.startOffset;
    expect(start).toBeGreaterThan(0);
    expect(trimmed.stats().tiered!.remoteSegments).toBeLessThan(before);
    expect(await readAll(trimmed, start)).toEqual(Array.from({ length: 2000 - start }, (_, index) => index + start));
    await expect(trimmed.readAsync(0)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    // Every object left under the prefix belongs to a segment of the log.
    const bases = new Set([...remote.objects.keys()].filter((key) => key.startsWith('logs/b/')).map((key) => Number(key.slice(7, 27))));
    expect([...bases].every((base) => base >= start)).toBe(true);
    await trimmed.close();
  });

  it('total retention by age deletes remote copies whose newest record is too old, and nothing newer', async () => {
    const remote = new MemoryRemoteStore();
    const { dir, log } = await filled(remote, 2000);
    await log.close();
    // A clock 1,000 ms past the record stamped T0 + 1500: segments whose records are all older go, remote and local.
    const aged = await SegmentLog.open(dir, options(remote, { retention: { ms: 1000 }, now: () => T0 + 2500 }));
    await aged.enforceRetention();
    await aged.offloaded();
    const start = aged.startOffset;
    expect(start).toBeGreaterThan(1000);
    expect(start).toBeLessThanOrEqual(1500);
    expect(await readAll(aged, start)).toEqual(Array.from({ length: 2000 - start }, (_, index) => index + start));
    const bases = new Set([...remote.objects.keys()].map((key) => Number(key.slice('logs/a/'.length, 'logs/a/'.length + 20))));
    expect([...bases].every((base) => base >= start)).toBe(true);
    await aged.close();
  });

  it('a reader with only the store sees a snapshot: refresh() adds newer copies, a copy deleted since fails with KEEL_NOT_FOUND', async () => {
    const remote = new MemoryRemoteStore();
    const { log } = await filled(remote, 1000);
    const reader = await RemoteSegmentLog.open({ remote, prefix: 'logs/a/', cacheBytes: 0 });
    const before = reader.nextOffset;
    expect(before).toBeGreaterThan(0);
    await expect(reader.read(0, { maxBytes: 0 })).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
    await expect(reader.read(before + 1)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });

    log.appendBatch(Array.from({ length: 500 }, (_, index) => ({ value: value(1000 + index), timestamp: T0 + 1000 + index })));
    log.roll();
    // A sync after the roll's own flush: the sealed segment is whole on disk, and offered, when it resolves.
    log.append({ value: value(1500), timestamp: T0 + 1500 });
    await log.sync();
    await log.offloaded();
    expect(reader.nextOffset).toBe(before);
    await reader.refresh();
    expect(reader.nextOffset).toBe(1500);

    await log.deleteBefore(600);
    await log.offloaded();
    expect(log.startOffset).toBeGreaterThan(0);
    await expect(reader.read(0)).rejects.toMatchObject({ code: 'KEEL_NOT_FOUND' });
    await reader.refresh();
    expect(reader.startOffset).toBe(log.startOffset);
    await reader.close();
    await log.close();
  });

  it('refuses a remote segment whose bytes were damaged, and never returns them', async () => {
    const remote = new MemoryRemoteStore();
    const { log } = await filled(remote, 1000);
    const key = [...remote.objects.keys()].find((name) => name.startsWith('logs/a/00000000000000000000.') && name.endsWith('.log'))!;
    remote.objects.get(key)!.bytes[300]! ^= 0x40;
    await expect(log.readAsync(0, { maxBytes: 64 * 1024 })).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    await log.close();
    // Damaged indexes (after the log's bytes in the same object) fail the CRC-32C their copy recorded.
    const object = remote.objects.get(key)!.bytes;
    object[300]! ^= 0x40;
    object[object.length - 1]! ^= 1;
    const reader = await RemoteSegmentLog.open({ remote, prefix: 'logs/a/' });
    await expect(reader.read(0)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    await reader.close();
  });
});
