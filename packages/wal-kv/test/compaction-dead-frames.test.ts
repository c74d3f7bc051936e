import { describe, expect, it, vi } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';
import { slicePauses, UNITS_PER_SLICE } from './support/unit-count-slices.js';

vi.mock('../src/slices.js', (importOriginal) => import('./support/unit-count-slices.js').then((mock) => mock.unitCountSlices(importOriginal)));

const BATCHES = 40;
const KEYS_PER_BATCH = 1000;

describe('a compaction over records whose puts are all dead', () => {
  it('still pauses as it goes: looking their keys up is work', async () => {
    const kv = await WalKv.open<string>(temporaryDir(), { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
    for (let batch = 0; batch < BATCHES; batch++) {
      kv.putBatch(Array.from({ length: KEYS_PER_BATCH }, (_, i) => [`key-${batch}-${i}`, 'v'.repeat(20)] as [string, string]));
    }
    // Every key above is deleted, so no record of the log holds a live put.
    for (let batch = 0; batch < BATCHES; batch++) {
      kv.deleteBatch(Array.from({ length: KEYS_PER_BATCH }, (_, i) => `key-${batch}-${i}`));
    }
    kv.put('kept', 'w');
    await kv.sync();

    const pausesBefore = slicePauses.count;
    await kv.compact();
    const pauses = slicePauses.count - pausesBefore;

    // Each of the 2 * BATCHES records is KEYS_PER_BATCH units of work (more than a slice
    // holds), all dead: a compaction that counted only the puts it copies would run
    // through every one of them in a single turn.
    expect(KEYS_PER_BATCH).toBeGreaterThan(UNITS_PER_SLICE);
    expect(pauses).toBeGreaterThanOrEqual(2 * BATCHES);
    expect(kv.get('key-7-7')).toBeUndefined();
    expect(kv.get('kept')).toBe('w');
    await kv.close();
  });
});
