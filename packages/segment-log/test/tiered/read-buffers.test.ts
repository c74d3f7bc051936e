import { describe, expect, it } from 'vitest';

import { READ_BUFFER_KEEP_BYTES_MAX, ReadBuffers } from '../../src/tiered/read-buffers.js';

describe('read buffers', () => {
  it('hand out exactly the size asked, reusing one kept buffer per kind of file', () => {
    const buffers = new ReadBuffers();
    const first = buffers.take('log', 5000);
    expect(first.length).toBe(5000);
    const second = buffers.take('log', 3000);
    expect(second.length).toBe(3000);
    expect(second.buffer).toBe(first.buffer);
    // Another kind has its own: a segment's three files are put side by side.
    expect(buffers.take('index', 3000).buffer).not.toBe(first.buffer);
    // A larger file grows the kept buffer once.
    const grown = buffers.take('log', 100_000);
    expect(grown.length).toBe(100_000);
    expect(grown.buffer).not.toBe(first.buffer);
    expect(buffers.take('log', 90_000).buffer).toBe(grown.buffer);
  });

  it('do not keep a buffer for files larger than the limit', () => {
    const buffers = new ReadBuffers();
    const kept = buffers.take('log', 1024);
    const large = buffers.take('log', READ_BUFFER_KEEP_BYTES_MAX + 1);
    expect(large.length).toBe(READ_BUFFER_KEEP_BYTES_MAX + 1);
    expect(buffers.take('log', READ_BUFFER_KEEP_BYTES_MAX + 1).buffer).not.toBe(large.buffer);
    expect(buffers.take('log', 1024).buffer).toBe(kept.buffer);
  });
});
