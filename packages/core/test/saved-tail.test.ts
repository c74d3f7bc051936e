import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FSYS_FRAME_FORMAT, InterceptedIo, encodeFrames, ioError, nativeIo, recoverFrameLog, type Io, type IoMutation } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

const whole = encodeFrames([new Uint8Array([1, 2, 3]), new Uint8Array(40).fill(7)], FSYS_FRAME_FORMAT);
/** The first frame whole, the second torn: the tail starts at `cut`. */
const cut = 3 + 12;
const torn = whole.subarray(0, whole.length - 9);
const tail = Buffer.from(torn.subarray(cut));

async function recover(path: string, io: Io = nativeIo) {
  const file = io.open(path, { write: true });
  try {
    return await recoverFrameLog({ io, file, format: FSYS_FRAME_FORMAT, policy: 'truncate-tail', foreignIfBadStart: true });
  } finally {
    file.closeSync();
  }
}

/** Fails every operation `fails` picks with ENOSPC, as a full disk would. */
class FullDiskIo extends InterceptedIo {
  constructor(private readonly fails: (operation: IoMutation, path: string) => boolean) {
    super(nativeIo);
  }
  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (this.fails(operation, path)) throw ioError('ENOSPC', operation, path);
    return run();
  }
  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (this.fails(operation, path)) return Promise.reject(ioError('ENOSPC', operation, path));
    return run();
  }
}

describe('saved tails', () => {
  const tempDir = useTempDir();

  it('holds exactly the bytes cut off', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, torn);
    const report = await recover(path);
    expect(report.savedTailPath).toBe(`${path}.torn-${cut}`);
    expect(readFileSync(report.savedTailPath!)).toEqual(tail);
    expect(readFileSync(path)).toEqual(Buffer.from(torn.subarray(0, cut)));
    expect(readdirSync(join(path, '..')).sort()).toEqual(['log', `log.torn-${cut}`]);
  });

  it('never overwrites an existing file of that name: a second tear at the same offset gets a fresh name', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, torn);
    const first = await recover(path);
    const second = Buffer.from(whole.subarray(cut, cut + 20)).fill(9, 8);
    writeFileSync(path, Buffer.concat([torn.subarray(0, cut), second]));
    const report = await recover(path);
    expect(report.savedTailPath).toBe(`${path}.torn-${cut}.1`);
    expect(readFileSync(first.savedTailPath!)).toEqual(tail);
    expect(readFileSync(report.savedTailPath!)).toEqual(second);
  });

  it('never follows a symlink out of the store, nor replaces it', async () => {
    const outside = join(tempDir(), 'precious');
    writeFileSync(outside, 'not keel\'s');
    const path = join(tempDir(), 'log');
    writeFileSync(path, torn);
    symlinkSync(outside, `${path}.torn-${cut}`);
    symlinkSync(join(tempDir(), 'nowhere'), `${path}.torn-${cut}.1`);
    const report = await recover(path);
    expect(report.savedTailPath).toBe(`${path}.torn-${cut}.2`);
    expect(readFileSync(report.savedTailPath!)).toEqual(tail);
    expect(readFileSync(outside, 'utf8')).toBe('not keel\'s');
    expect(readlinkSync(`${path}.torn-${cut}`)).toBe(outside);
    expect(lstatSync(`${path}.torn-${cut}.1`).isSymbolicLink()).toBe(true);
  });

  it('leaves a partial copy a crash left behind alone', async () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, torn);
    writeFileSync(`${path}.torn-${cut}.saving`, 'partial');
    const report = await recover(path);
    expect(readFileSync(report.savedTailPath!)).toEqual(tail);
    expect(readFileSync(`${path}.torn-${cut}.saving`, 'utf8')).toBe('partial');
  });

  for (const failing of ['write', 'datasync', 'rename', 'sync-dir'] as const) {
    it(`a copy that fails (${failing}: disk full) leaves no saved tail, partial or whole, and the file untouched`, async () => {
      const dir = tempDir();
      const path = join(dir, 'log');
      writeFileSync(path, torn);
      const io = new FullDiskIo((operation, at) => operation === failing && at !== path);
      await expect(recover(path, io)).rejects.toMatchObject({ code: 'KEEL_IO', errno: 'ENOSPC' });
      expect(readdirSync(dir)).toEqual(['log']);
      expect(readFileSync(path)).toEqual(Buffer.from(torn));
      expect(existsSync(`${path}.torn-${cut}`)).toBe(false);
    });
  }
});
