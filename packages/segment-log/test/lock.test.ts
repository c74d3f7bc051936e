import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
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
