import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, snapshotNames, temporaryDir, text } from './helpers.js';

const FRAME_HEADER_BYTES = 8;

/** The frames of a checkpoint file as [start, payload length] pairs. */
function frames(file: Buffer): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (let at = 0; at < file.length; at += FRAME_HEADER_BYTES + file.readUInt32LE(at + 4) + 4) found.push([at, file.readUInt32LE(at + 4)]);
  return found;
}

/** Recomputes the CRC of the frame at `start`: a change that still checks out, as a foreign writer would make. */
function reseal(file: Buffer, start: number, payloadLength: number): void {
  const end = start + FRAME_HEADER_BYTES + payloadLength;
  file.writeUInt32LE(crc32c(file.subarray(start, end)), end);
}

async function storeWithCheckpoint(): Promise<{ dir: string; path: string }> {
  const dir = temporaryDir();
  const kv = await WalKv.open(dir, { durability: { mode: 'explicit' } });
  for (let i = 0; i < 30; i++) kv.put(`key-${String(i).padStart(2, '0')}`, bytes(`value-${i}`));
  kv.delete('key-07');
  await kv.checkpoint();
  kv.put('after', bytes('checkpoint'));
  await kv.close();
  return { dir, path: join(dir, snapshotNames(dir)[0]!) };
}

async function expectReplayedInFull(dir: string, reason: RegExp): Promise<void> {
  const reopened = await WalKv.open(dir);
  const ignored = reopened.recovery.actions.find((action) => action.kind === 'ignored-snapshot');
  expect(ignored?.detail).toMatch(reason);
  expect(reopened.recovery.actions.map((action) => action.kind)).not.toContain('loaded-snapshot');
  expect(reopened.size).toBe(30);
  expect(reopened.has('key-07')).toBe(false);
  expect(text(reopened.get('after'))).toBe('checkpoint');
  await reopened.close();
}

describe('checkpoint format version 3', () => {
  it('ignores a checkpoint of format version 2 (entries in any order) and replays the log instead', async () => {
    const { dir, path } = await storeWithCheckpoint();
    const file = readFileSync(path);
    const [header] = frames(file);
    file.writeUInt16LE(2, header![0] + FRAME_HEADER_BYTES + 1);
    reseal(file, header![0], header![1]);
    writeFileSync(path, file);
    await expectReplayedInFull(dir, /format version 2/);
  });

  it('ignores a checkpoint whose entries are not in strictly increasing key order', async () => {
    const { dir, path } = await storeWithCheckpoint();
    const file = readFileSync(path);
    const [, entries] = frames(file);
    // Swap the first two keys (same length) in the chunk's key area: both still point at real values.
    const payload = entries![0] + FRAME_HEADER_BYTES;
    const count = file.readUInt32LE(payload + 1);
    const keys = payload + 5 + count * 22;
    const first = Buffer.from(file.subarray(keys, keys + 6));
    file.copy(file, keys, keys + 6, keys + 12);
    first.copy(file, keys + 6);
    reseal(file, entries![0], entries![1]);
    writeFileSync(path, file);
    await expectReplayedInFull(dir, /strictly increasing/);
  });

  it('loads an intact checkpoint and keeps its key order for ranges', async () => {
    const { dir } = await storeWithCheckpoint();
    const reopened = await WalKv.open(dir);
    expect(reopened.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
    expect([...reopened.keys({ gte: 'key-05', lt: 'key-10' })]).toEqual(['key-05', 'key-06', 'key-08', 'key-09']);
    await reopened.close();
  });
});
