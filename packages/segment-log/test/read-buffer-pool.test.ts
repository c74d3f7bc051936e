import { describe, expect, it } from 'vitest';
import { READ_BUFFERS_POOLED_MAX, ReadBufferPool } from '../src/read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('hands a returned buffer out once, cut to the length asked for, and fresh memory when none fits', () => {
    const pool = new ReadBufferPool(1024);
    const returned = new ArrayBuffer(512);
    pool.give(returned);
    const taken = pool.take(100);
    expect(taken.buffer).toBe(returned);
    expect(taken.length).toBe(100);
    expect(pool.take(100).buffer).not.toBe(returned);
    pool.give(returned);
    expect(pool.take(600).buffer).not.toBe(returned);
  });

  it('hands out the smallest returned buffer that fits, the most recent among equals', () => {
    const pool = new ReadBufferPool(4096);
    const large = new ArrayBuffer(4096);
    const small = new ArrayBuffer(256);
    const olderSmall = new ArrayBuffer(256);
    pool.give(olderSmall);
    pool.give(small);
    pool.give(large);
    expect(pool.take(100).buffer).toBe(small);
    expect(pool.take(300).buffer).toBe(large);
    expect(pool.take(200).buffer).toBe(olderSmall);
  });

  it('keeps the largest buffers up to its count and none over its size', () => {
    const pool = new ReadBufferPool(1024);
    pool.give(new ArrayBuffer(2048));
    const buffers = Array.from({ length: READ_BUFFERS_POOLED_MAX + 1 }, (_, index) => new ArrayBuffer(100 + index));
    for (const buffer of buffers) pool.give(buffer);
    const kept = new Set(Array.from({ length: READ_BUFFERS_POOLED_MAX + 1 }, () => pool.take(1).buffer));
    for (const buffer of buffers.slice(1)) expect(kept.has(buffer)).toBe(true);
    expect(kept.has(buffers[0]!)).toBe(false);
  });

  it('keeps nothing once closed: the buffers it held are dropped and those given back later are not kept', () => {
    const pool = new ReadBufferPool(1024);
    const held = new ArrayBuffer(512);
    pool.give(held);
    pool.close();
    expect(pool.take(100).buffer).not.toBe(held);
    const late = new ArrayBuffer(512);
    pool.give(late);
    expect(pool.take(100).buffer).not.toBe(late);
  });
});
