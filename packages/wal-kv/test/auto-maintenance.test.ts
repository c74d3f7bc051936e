import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPACT_LOG_BYTES_MIN, WalKv } from '../src/index.js';
import { logPath, snapshotNames, temporaryDir } from './helpers.js';

describe('automatic snapshots and compaction', () => {
  it('snapshots once the log grew checkpointEveryBytes, keeping the newest two', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: 4096 });
    for (let i = 0; i < 300; i++) {
      kv.put(`key-${i}`, 'v'.repeat(100));
      if (i % 50 === 0) await kv.sync();
    }
    await kv.close();
    expect(snapshotNames(dir).length).toBeGreaterThanOrEqual(1);
    expect(snapshotNames(dir).length).toBeLessThanOrEqual(2);
    const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(again.recovery.actions.map((action) => action.kind)).toContain('loaded-snapshot');
    expect(again.size).toBe(300);
    await again.close();
  });

  it('waits for as much log growth as the last snapshot took before taking another', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: 1 });
    // Long keys and short values: the snapshot is far larger than the log a put adds.
    const batchSeq = kv.putBatch(Array.from({ length: 2000 }, (_, i) => [`${'k'.repeat(200)}-${i}`, 'v'] as [string, string]));
    await kv.sync();
    for (let i = 0; i < 100; i++) {
      kv.put(`${'k'.repeat(200)}-${i}`, 'w');
      await kv.sync();
    }
    // Every later put was due a snapshot under checkpointEveryBytes alone; none was taken.
    const seqs = snapshotNames(dir).map((name) => Number(/\d+/.exec(name)![0]));
    expect(seqs).toEqual([batchSeq]);
    await kv.close();
  });

  it('a clean close writes a checkpoint once the log grew by checkpointEveryBytes since the last, however lazily the automatic ones run', async () => {
    const seqsOf = (dir: string): number[] => snapshotNames(dir).map((name) => Number(/\d+/.exec(name)![0])).sort((a, b) => a - b);
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: 1 });
    // Long keys: the checkpoint is large, so the automatic rule waits for many times its size.
    kv.putBatch(Array.from({ length: 2000 }, (_, i) => [`${'k'.repeat(200)}-${i}`, 'v'] as [string, string]));
    await kv.checkpoint();
    let last = 0;
    for (let i = 0; i < 10; i++) {
      last = kv.put(`short-${i}`, 'w');
      await kv.sync();
    }
    expect(seqsOf(dir)).toEqual([2000]);
    await kv.close();
    expect(seqsOf(dir)).toEqual([2000, last]);
  });

  it('a clean close leaves less than checkpointEveryBytes of log to replay rather than write a checkpoint', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: 1 << 20 });
    kv.putBatch(Array.from({ length: 100 }, (_, i) => [`key-${i}`, 'v'.repeat(100)] as [string, string]));
    await kv.close();
    expect(snapshotNames(dir)).toEqual([]);
    const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(again.get('key-99')).toBe('v'.repeat(100));
    await again.close();
  });

  it('compacts once dead bytes exceed the ratio of a large enough log', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 0.5 });
    const value = (i: number): string => `${i}:`.padEnd(1024, 'x');
    const writes = Math.ceil((2 * COMPACT_LOG_BYTES_MIN) / 1024);
    for (let i = 0; i < writes; i++) {
      kv.put(`hot-${i % 4}`, value(i));
      if (i % 100 === 0) await kv.sync();
    }
    await kv.sync();
    // The compaction started during the puts and runs in slices between turns of the event
    // loop; close would abandon it, so give it those turns until it has switched logs.
    while (kv.stats().compactions === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await kv.close();
    const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(again.stats().generation).toBeGreaterThan(1);
    expect(statSync(logPath(dir)).size).toBeLessThan(COMPACT_LOG_BYTES_MIN * 1.2);
    for (let k = 0; k < 4; k++) {
      const last = writes - 1 - ((writes - 1 - k) % 4);
      expect(again.get(`hot-${k}`)).toBe(value(last));
    }
    await again.close();
  });
});
