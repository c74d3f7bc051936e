import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { STAGING_KEEP_BYTES_MAX, StagingBuffers } from './staging-buffers.js';

describe('staging buffers', () => {
  it('copy exactly the view into shared memory, reused once released', () => {
    const staging = new StagingBuffers();
    const source = randomBytes(10_000);
    const first = staging.stage(source.subarray(100, 5100));
    expect(first.view.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(first.transfer).toBeUndefined();
    expect(Buffer.from(first.view).equals(source.subarray(100, 5100))).toBe(true);
    // In use, it is not handed out again.
    const second = staging.stage(source.subarray(0, 3000));
    expect(second.view.buffer).not.toBe(first.view.buffer);
    first.release();
    const third = staging.stage(source.subarray(0, 4000));
    expect(third.view.buffer).toBe(first.view.buffer);
    expect(Buffer.from(third.view).equals(source.subarray(0, 4000))).toBe(true);
  });

  it('give larger objects a copy of their own, to be transferred', () => {
    const staging = new StagingBuffers();
    const large = Buffer.alloc(STAGING_KEEP_BYTES_MAX + 1, 7);
    const staged = staging.stage(large);
    expect(staged.view.buffer).toBeInstanceOf(ArrayBuffer);
    expect(staged.transfer).toBe(staged.view.buffer);
    expect(Buffer.from(staged.view).equals(large)).toBe(true);
  });
});
