import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { crc32c } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, LOG_START_FILE_NAME } from '../src/format.js';
import { IDENTITY, IDENTITY_FILE_NAME } from '../src/store-identity.js';
import { SegmentLog, type SegmentLogOptions } from '../src/index.js';
import { bytes, codeOf, filesEndingWith, tempDir, oneRecordFrameBytes } from './helpers.js';

/** Four 40-byte records per segment. */
const OPTIONS: SegmentLogOptions = { segmentBytes: HEADER_BYTES + 4 * oneRecordFrameBytes(40), durability: { mode: 'every-write' } };

/** A closed log of 14 records (four segments), its start moved to 4 when `moveStart`. */
async function filledLog(moveStart = false): Promise<string> {
  const dir = tempDir();
  await using log = await SegmentLog.open(dir, OPTIONS);
  for (let index = 0; index < 14; index++) log.append({ value: bytes(`record ${String(index).padStart(33, '.')}`), timestamp: index });
  if (moveStart) expect(await log.deleteBefore(4)).toBe(1);
  return dir;
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name)).toString('hex')]));
}

async function expectRefusedUntouched(dir: string): Promise<void> {
  const before = contents(dir);
  expect(await codeOf(() => SegmentLog.open(dir, OPTIONS))).toBe('KEEL_CORRUPT');
  expect(contents(dir)).toEqual(before);
}

describe('the log identity', () => {
  it('is created with the log, before its first segment, and kept across opens', async () => {
    const dir = await filledLog();
    const first = readFileSync(join(dir, IDENTITY_FILE_NAME));
    expect(IDENTITY.decode(new Uint8Array(first)).state).toBe('valid');
    await (await SegmentLog.open(dir, OPTIONS)).close();
    expect(readFileSync(join(dir, IDENTITY_FILE_NAME))).toEqual(first);
  });

  it('a segment copied from another log under a base offset this log uses is foreign: refused, untouched', async () => {
    for (const position of [0, 1, 3]) {
      const dir = await filledLog();
      const other = await filledLog();
      const name = basename(filesEndingWith(dir, '.log')[position] as string);
      copyFileSync(join(other, name), join(dir, name));
      await expectRefusedUntouched(dir);
    }
  });

  it('a log-start checkpoint copied from another log is foreign: refused, untouched', async () => {
    const dir = await filledLog(true);
    const other = await filledLog(true);
    copyFileSync(join(other, LOG_START_FILE_NAME), join(dir, LOG_START_FILE_NAME));
    await expectRefusedUntouched(dir);
  });

  it('a missing or torn identity beside segments (written after it) is refused, untouched', async () => {
    for (const torn of [null, new Uint8Array(0), Uint8Array.of(0x4b, 0x53, 0, 0, 0, 0, 0, 0)]) {
      const dir = await filledLog();
      if (torn === null) rmSync(join(dir, IDENTITY_FILE_NAME));
      else writeFileSync(join(dir, IDENTITY_FILE_NAME), torn);
      await expectRefusedUntouched(dir);
    }
  });

  it('a torn identity with nothing else of a log yet is written afresh', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, IDENTITY_FILE_NAME), Uint8Array.of(0x4b, 0, 0x4c, 0x49, 20, 0, 0, 0));
    await using log = await SegmentLog.open(dir, OPTIONS);
    expect(IDENTITY.decode(new Uint8Array(readFileSync(join(dir, IDENTITY_FILE_NAME)))).state).toBe('valid');
    expect(log.nextOffset).toBe(0);
  });

  it('a log of segment format 1 (before identities) is refused with KEEL_CORRUPT, untouched', async () => {
    const dir = tempDir();
    // A version-1 segment header frame: magic "KSLH", length 12, version 1, reserved, base offset 0, CRC-32C.
    const frame = new Uint8Array(24);
    const view = new DataView(frame.buffer);
    view.setUint32(0, 0x4b53_4c48, false);
    view.setUint32(4, 12, true);
    view.setUint16(8, 1, true);
    view.setUint32(20, crc32c(frame.subarray(0, 20)), true);
    writeFileSync(join(dir, `${'0'.repeat(20)}.log`), frame);
    await expectRefusedUntouched(dir);
  });
});
