import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FSYS_FRAME_FORMAT, encodeFrames, nativeIo, recoverFrameLog, type RecoveryPolicy } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(100).fill(5)];
const stream = encodeFrames(payloads, FSYS_FRAME_FORMAT);

async function recover(path: string, policy: RecoveryPolicy = 'truncate-tail') {
  const file = nativeIo.open(path, { write: true });
  try {
    const seen: number[] = [];
    const report = await recoverFrameLog({ io: nativeIo, file, format: FSYS_FRAME_FORMAT, policy, foreignIfBadStart: true, onFrame: (f) => seen.push(f.payload.length) });
    return { report, seen };
  } finally {
    file.closeSync();
  }
}

describe('recoverFrameLog on real files', () => {
  const tempDir = useTempDir();

  it('saves and cuts a torn tail, and a second recovery changes nothing', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, stream.subarray(0, stream.length - 5));
    const { report, seen } = await recover(path);
    const cut = stream.length - frameLength(100);
    expect(report.tailState).toBe('truncated-payload');
    expect(report.validBytes).toBe(cut);
    expect(report.discardedBytes).toBe(frameLength(100) - 5);
    expect(seen).toEqual([3, 0]);
    expect(readFileSync(path)).toEqual(Buffer.from(stream.subarray(0, cut)));
    expect(readFileSync(report.savedTailPath!)).toEqual(Buffer.from(stream.subarray(cut, stream.length - 5)));
    const again = await recover(path);
    expect(again.report.tailState).toBe('clean-end');
    expect(again.report.validBytes).toBe(cut);
  });

  it('strict refuses a torn tail and leaves the file untouched', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, stream.subarray(0, stream.length - 1));
    await expect(recover(path, 'strict')).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    expect(readFileSync(path)).toEqual(Buffer.from(stream.subarray(0, stream.length - 1)));
  });

  it('refuses corruption followed by valid frames unless asked to salvage', async () => {
    const path = join(tempDir(), 'log');
    const damaged = stream.slice();
    damaged[9]! ^= 0x40; // inside the first payload
    writeFileSync(path, damaged);
    await expect(recover(path)).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: 0 });
    expect(readFileSync(path)).toEqual(Buffer.from(damaged));
    const salvaged = await recover(path, 'salvage');
    expect(salvaged.report.validBytes).toBe(0);
    expect(readFileSync(path).length).toBe(0);
  });

  it('never modifies a file that is not ours', async () => {
    const path = join(tempDir(), 'notes.txt');
    const text = Buffer.from('hello, this is somebody else\'s file\n');
    writeFileSync(path, text);
    await expect(recover(path)).rejects.toMatchObject({ code: 'KEEL_CORRUPT', offset: 0 });
    expect(readFileSync(path)).toEqual(text);
    expect(existsSync(`${path}.torn-0`)).toBe(false);
  });

  it('treats a zero-filled tail as torn', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, Buffer.concat([stream, Buffer.alloc(4096)]));
    const { report } = await recover(path);
    expect(report.tailState).toBe('bad-magic');
    expect(report.validBytes).toBe(stream.length);
    expect(readFileSync(path).length).toBe(stream.length);
  });
});

function frameLength(payloadBytes: number): number {
  return payloadBytes + 12;
}

describe('recoverFrameLog at the first frame of a headerless format', () => {
  const tempDir = useTempDir();

  it('opens a torn first write (magic bytes or zeros, then anything) and saves what it cuts', async () => {
    for (const head of [[0, 0, 0, 0], [0x46, 0x53, 0, 0], [0, 0x53, 0x59, 0x01]]) {
      const path = join(tempDir(), 'log');
      const torn = Buffer.from([...head, 9, 9, 9, 9, 7]);
      writeFileSync(path, torn);
      const { report } = await recover(path);
      expect(report.tailState).toBe('bad-magic');
      expect(readFileSync(path).length).toBe(0);
      expect(readFileSync(report.savedTailPath!)).toEqual(torn);
    }
  });
});
