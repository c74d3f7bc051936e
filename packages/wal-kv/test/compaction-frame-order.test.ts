// Compaction copies the frames written meanwhile into the new log whole: small ones are
// staged and written together, a large one (over half the stage) is written on its own.
// The staged frames must reach the file before a large frame that follows them: written
// after it, they landed over its tail and left a hole where they belonged, and the next
// compaction (or an open) found that log damaged.
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { COMPACTION_STAGE_BYTES, COMPACTION_SYNC_EVERY_BYTES } from '../src/limits.js';
import { temporaryDir } from './helpers.js';

const VALUE = 'v'.repeat(1000);
/** Live values worth a few write-behind syncs: the copy takes many turns. */
const KEYS = Math.ceil((3 * COMPACTION_SYNC_EVERY_BYTES) / VALUE.length);
/** A batch whose frame is over half the stage: compaction writes it on its own. */
const LARGE_BATCH_KEYS = Math.ceil(COMPACTION_STAGE_BYTES / 2 / VALUE.length) + 10;

const options = { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 } as const;

describe('compaction places the frames written during it in order', () => {
  it('small frames then a large one, written while a compaction runs, read back after it and after a reopen', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, options);
    const expected = new Map<string, string>();
    const put = (key: string, value: string): void => {
      kv.put(key, value);
      expected.set(key, value);
    };
    for (let key = 0; key < KEYS; key++) put(`key-${key}`, VALUE);
    await kv.sync();
    let done = false;
    const compaction = kv.compact().finally(() => void (done = true));
    let turn = 0;
    let largeBatches = 0;
    while (!done) {
      // One small frame per turn, and every few turns a large one behind them.
      put(`small-${turn}`, `value ${turn}`);
      if (turn % 4 === 3) {
        const batch = Array.from({ length: LARGE_BATCH_KEYS }, (_, index) => [`large-${turn}-${index}`, `${VALUE}${turn}`] as [string, string]);
        kv.putBatch(batch);
        for (const [key, value] of batch) expected.set(key, value);
        largeBatches++;
      }
      turn++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await compaction;
    expect(largeBatches).toBeGreaterThan(1);
    for (const [key, value] of expected) expect(kv.get(key)).toBe(value);
    // The next compaction reads the new log whole, frame by frame.
    await kv.compact();
    await kv.close();
    const reopened = await WalKv.open<string>(dir, options);
    expect(reopened.size).toBe(expected.size);
    for (const [key, value] of expected) expect(reopened.get(key)).toBe(value);
    await reopened.close();
  });
});
