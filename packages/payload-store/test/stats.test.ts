import { describe, expect, it } from 'vitest';
import { PayloadStore, SEGMENT_HEADER_BYTES } from '../src/index.js';
import { bytes, tempDir } from './helpers.js';

describe('stats, segments and seal handles', () => {
  it('counts what happened and describes every segment', async () => {
    await using store = await PayloadStore.open(tempDir(), { segmentBytes: 104, durability: { mode: 'explicit' } });
    const first = store.append(bytes('x'.repeat(20)));
    store.appendBatch([bytes('y'.repeat(20)), bytes('z'.repeat(20))]);
    store.read(first);
    const handle = store.seal();
    expect(handle.active).toBeGreaterThan(handle.sealed);
    await store.sync();
    const stats = store.stats();
    expect(stats).toMatchObject({ appendedPayloads: 3, reads: 1, activeSegment: handle.active, pendingCompaction: false, poisoned: false, closed: false });
    expect(stats.durableBytes).toBe(stats.appendedBytes);
    const segments = store.segments();
    expect(segments.map((info) => info.segment)).toEqual([...segments.map((info) => info.segment)].sort((a, b) => a - b));
    expect(segments.at(-1)).toMatchObject({ segment: handle.active, kind: 'append', state: 'active', bytes: SEGMENT_HEADER_BYTES });
    expect(segments.filter((info) => info.state === 'sealed').every((info) => info.order === info.segment)).toBe(true);
    expect(store.diskUsage()).toBe(segments.reduce((total, info) => total + info.bytes, 0));
  });

  it("durability 'interval' flushes on its own timer", async () => {
    await using store = await PayloadStore.open(tempDir(), { durability: { mode: 'interval', ms: 5 } });
    store.append(bytes('eventually durable'));
    // Only the interval timer can move the durable frontier here (no sync() of ours): yield
    // to the event loop until it has; the test timeout bounds the wait.
    while (store.stats().durableBytes < store.stats().appendedBytes) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(store.stats().flushes).toBeGreaterThan(0);
  });
});
