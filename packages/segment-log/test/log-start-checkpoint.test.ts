import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFrame } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, LOG_START_FILE_NAME, LOG_START_FORMAT, LOG_START_TEMPORARY_NAME } from '../src/format.js';
import { IDENTITY, IDENTITY_FILE_NAME } from '../src/store-identity.js';
import { encodeLogStart } from '../src/log-start.js';
import { SegmentLog, type SegmentLogOptions } from '../src/index.js';
import { bytes, codeOf, filesEndingWith, flipByte, tempDir, oneRecordFrameBytes } from './helpers.js';

/** Four 50-byte records per segment. */
const OPTIONS: SegmentLogOptions = { segmentBytes: HEADER_BYTES + 4 * oneRecordFrameBytes(50), durability: { mode: 'every-write' } };

/** A log of 18 records whose start moved to 8 (two segments deleted), closed. */
async function movedStart(): Promise<string> {
  const dir = tempDir();
  await using log = await SegmentLog.open(dir, OPTIONS);
  for (let index = 0; index < 18; index++) log.append({ value: bytes('r'.repeat(50)), timestamp: index });
  expect(await log.deleteBefore(9)).toBe(2);
  return dir;
}

/** Every entry of `dir` with its bytes (directories as such), to show that nothing changed. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    out[name] = statSync(path).isDirectory() ? '<dir>' : readFileSync(path).toString('hex');
  }
  return out;
}

/** The id in `dir`'s identity file: a checkpoint crafted with it is this log's own. */
function storeIdOf(dir: string): Uint8Array {
  const identity = IDENTITY.decode(new Uint8Array(readFileSync(join(dir, IDENTITY_FILE_NAME))));
  if (identity.state !== 'valid') throw new Error('test log has no identity');
  return identity.storeId;
}

function versionThree(): Uint8Array {
  const payload = new Uint8Array(28);
  payload[0] = 3;
  payload[4] = 8;
  return encodeFrame(payload, LOG_START_FORMAT);
}

const DAMAGE: Record<string, (dir: string) => void> = {
  'a flipped byte': (dir) => flipByte(join(dir, LOG_START_FILE_NAME), 13),
  'a cut checkpoint': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), readFileSync(join(dir, LOG_START_FILE_NAME)).subarray(0, 20)),
  'a longer file': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), Buffer.concat([readFileSync(join(dir, LOG_START_FILE_NAME)), Buffer.alloc(1)])),
  'a huge file': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), Buffer.alloc(1 << 20)),
  'another frame of ours (a segment header)': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), readFileSync(filesEndingWith(dir, '.log')[0]!).subarray(0, HEADER_BYTES)),
  'a later version': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), versionThree()),
  'a checkpoint of another log': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), encodeLogStart(8, new Uint8Array(16).fill(7))),
  'a start inside a segment': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), encodeLogStart(9, storeIdOf(dir))),
  'a start below the first segment': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), encodeLogStart(4, storeIdOf(dir))),
  'a start above every segment': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), encodeLogStart(100, storeIdOf(dir))),
  'a start beyond 2^53': (dir) => writeFileSync(join(dir, LOG_START_FILE_NAME), encodeFrame(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0), LOG_START_FORMAT)),
  'a directory as the checkpoint': (dir) => {
    rmSync(join(dir, LOG_START_FILE_NAME));
    mkdirSync(join(dir, LOG_START_FILE_NAME));
  },
  'a directory as its temporary': (dir) => mkdirSync(join(dir, LOG_START_TEMPORARY_NAME)),
};

describe('the log-start checkpoint', () => {
  it('moves the start durably: a reopened log starts where deleteBefore left it', async () => {
    const dir = await movedStart();
    expect(readdirSync(dir)).toContain(LOG_START_FILE_NAME);
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(log.startOffset).toBe(8);
    expect(log.recovery.actions).toEqual([]);
    expect(log.read(8).map((record) => record.offset)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(await codeOf(() => log.read(7))).toBe('KEEL_NOT_FOUND');
  });

  it('retention by bytes moves the start through the same checkpoint', async () => {
    const dir = tempDir();
    const segmentBytes = OPTIONS.segmentBytes as number;
    {
      await using log = await SegmentLog.open(dir, { ...OPTIONS, retention: { bytes: segmentBytes * 2 } });
      for (let index = 0; index < 17; index++) log.append({ value: bytes('r'.repeat(50)), timestamp: index });
      await log.enforceRetention();
      expect(log.startOffset).toBe(12);
    }
    expect(readdirSync(dir)).toContain(LOG_START_FILE_NAME);
    // Put a deleted segment back, as a crash before its unlink was durable would.
    writeFileSync(join(dir, '00000000000000000008.log'), readFileSync(filesEndingWith(dir, '.log')[0]!));
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(log.startOffset).toBe(12);
    expect(log.recovery.actions.map((action) => action.kind)).toEqual(['removed-file']);
  });

  it('segment files left below it are removed on open, and the start holds', async () => {
    const dir = await movedStart();
    // What a crash after the checkpoint and before the unlinks leaves: the old files back.
    const kept = filesEndingWith(dir, '.log')[0]!;
    writeFileSync(join(dir, '00000000000000000000.log'), readFileSync(kept));
    writeFileSync(join(dir, '00000000000000000004.index'), Buffer.alloc(0));
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(log.startOffset).toBe(8);
    expect(log.recovery.actions.map((action) => [action.kind, action.path])).toEqual([
      ['removed-file', join(dir, '00000000000000000000.log')],
      ['removed-file', join(dir, '00000000000000000004.index')],
    ]);
    expect(filesEndingWith(dir, '.log').length).toBe(3);
  });

  it('a leftover temporary is replaced by the next deleteBefore', async () => {
    const dir = await movedStart();
    writeFileSync(join(dir, LOG_START_TEMPORARY_NAME), Buffer.from('garbage a crash left'));
    {
      await using log = await SegmentLog.open(dir, OPTIONS);
      expect(await log.deleteBefore(13)).toBe(1);
    }
    expect(readdirSync(dir)).not.toContain(LOG_START_TEMPORARY_NAME);
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(log.startOffset).toBe(12);
  });

  for (const [what, damage] of Object.entries(DAMAGE)) {
    it(`${what} is refused with KEEL_CORRUPT and nothing on disk changes`, async () => {
      const dir = await movedStart();
      damage(dir);
      const before = contents(dir);
      expect(await codeOf(() => SegmentLog.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
      expect(contents(dir)).toEqual(before);
    });
  }
});
