import { describe, expect, it } from 'vitest';

import { READ_BUFFER_KEEP_BYTES_MAX, ReadBuffer } from '../../src/tiered/read-buffer.js';

describe('read buffer', () => {
  it('hands out exactly the size asked, reusing the kept buffer, grown when a larger segment comes', () => {
    const buffer = new ReadBuffer();
    const first = buffer.take(5000);
    expect(first.length).toBe(5000);
    const second = buffer.take(3000);
    expect(second.length).toBe(3000);
    expect(second.buffer).toBe(first.buffer);
    const grown = buffer.take(100_000);
    expect(grown.length).toBe(100_000);
    expect(grown.buffer).not.toBe(first.buffer);
    expect(buffer.take(90_000).buffer).toBe(grown.buffer);
  });

  it('does not keep a buffer for segments larger than the limit', () => {
    const buffer = new ReadBuffer();
    const kept = buffer.take(1024);
    const large = buffer.take(READ_BUFFER_KEEP_BYTES_MAX + 1);
    expect(large.length).toBe(READ_BUFFER_KEEP_BYTES_MAX + 1);
    expect(buffer.take(READ_BUFFER_KEEP_BYTES_MAX + 1).buffer).not.toBe(large.buffer);
    expect(buffer.take(1024).buffer).toBe(kept.buffer);
  });
});
