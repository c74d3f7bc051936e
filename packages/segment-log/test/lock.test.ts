import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE_NAME, SegmentLog } from '../src/index.js';
import { bytes, codeOf, tempDir } from './helpers.js';

describe('lock', () => {
  it('refuses a second open of the same directory until the first closes', async () => {
    const dir = tempDir();
    const first = await SegmentLog.open(dir);
    first.append({ value: bytes('a'), timestamp: 1 });
    expect(await codeOf(() => SegmentLog.open(dir))).toBe('KEEL_LOCKED');
    await first.close();
    await first.close();
    await using second = await SegmentLog.open(dir);
    expect(second.nextOffset).toBe(1);
  });
});

describe('lock file unlinked while the log is open', () => {
  it('does not let a second writer in', async () => {
    const dir = tempDir();
    await using first = await SegmentLog.open(dir);
    rmSync(join(dir, LOCK_FILE_NAME));
    expect(await codeOf(() => SegmentLog.open(dir))).toBe('KEEL_LOCKED');
    expect(first.nextOffset).toBe(0);
  });
});
