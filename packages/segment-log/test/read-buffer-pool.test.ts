import { PAGE_BYTES, PLACED_READ_BYTES_MIN, pageOffsetOfView } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { READ_BUFFERS_POOLED_MAX, ReadBufferPool } from '../src/read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('hands a returned buffer out once, cut to the length asked for, and fresh memory when none fits', () => {
    const pool = new ReadBufferPool(1024);
    const returned = new ArrayBuffer(512);
    pool.give(returned);
    const taken = pool.take(100, 0);
    expect(taken.buffer).toBe(returned);
    expect(taken.length).toBe(100);
    expect(pool.take(100, 0).buffer).not.toBe(returned);
    pool.give(returned);
    expect(pool.take(600, 0).buffer).not.toBe(returned);
  });

  it('hands out the smallest returned buffer that fits, the most recent among equals', () => {
    const pool = new ReadBufferPool(4096);
    const large = new ArrayBuffer(4096);
    const small = new ArrayBuffer(256);
    const olderSmall = new ArrayBuffer(256);
    pool.give(olderSmall);
    pool.give(small);
    pool.give(large);
    expect(pool.take(100, 0).buffer).toBe(small);
    expect(pool.take(300, 0).buffer).toBe(large);
    expect(pool.take(200, 0).buffer).toBe(olderSmall);
  });

  it('keeps the largest buffers up to its count and none over its size', () => {
    const pool = new ReadBufferPool(1024);
    pool.give(new ArrayBuffer(1024 + PAGE_BYTES + 1));
    const buffers = Array.from({ length: READ_BUFFERS_POOLED_MAX + 1 }, (_, index) => new ArrayBuffer(100 + index));
    for (const buffer of buffers) pool.give(buffer);
    const kept = new Set(Array.from({ length: READ_BUFFERS_POOLED_MAX + 1 }, () => pool.take(1, 0).buffer));
    for (const buffer of buffers.slice(1)) expect(kept.has(buffer)).toBe(true);
    expect(kept.has(buffers[0]!)).toBe(false);
  });

  it('keeps nothing once closed: the buffers it held are dropped and those given back later are not kept', () => {
    const pool = new ReadBufferPool(1024);
    const held = new ArrayBuffer(512);
    pool.give(held);
    pool.close();
    expect(pool.take(100, 0).buffer).not.toBe(held);
    const late = new ArrayBuffer(512);
    pool.give(late);
    expect(pool.take(100, 0).buffer).not.toBe(late);
  });

  it('places a large read for its position, in fresh memory with a page of slack and in a returned buffer that has room for it', () => {
    const length = PLACED_READ_BYTES_MIN;
    const pool = new ReadBufferPool(1 << 20);
    const fresh = pool.take(length, 4096 * 7 + 1000);
    expect(fresh.length).toBe(length);
    expect(pageOffsetOfView(fresh)).toBe(1000);
    expect(fresh.buffer.byteLength).toBe(length + PAGE_BYTES - 1);
    pool.give(fresh.buffer as ArrayBuffer);
    const again = pool.take(length, 4095);
    expect(again.buffer).toBe(fresh.buffer);
    expect(pageOffsetOfView(again)).toBe(4095);
    // The largest read's memory, its slack included, is kept; anything larger is not.
    const largest = new ArrayBuffer((1 << 20) + PAGE_BYTES);
    pool.give(largest);
    expect(pool.take(1 << 20, 4095).buffer).toBe(largest);
    const over = new ArrayBuffer((1 << 20) + PAGE_BYTES + 1);
    pool.give(over);
    expect(pool.take(1 << 20, 0).buffer).not.toBe(over);
    // A returned buffer without a page of slack is not used for a large read.
    const tight = new ArrayBuffer(length + PAGE_BYTES - 2);
    pool.give(tight);
    expect(pool.take(length, 0).buffer).not.toBe(tight);
    expect(pool.take(length - PAGE_BYTES, 0).buffer).toBe(tight);
  });
});
