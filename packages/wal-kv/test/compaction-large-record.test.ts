import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { COMPACTION_CALLS_PER_RECORD_MAX, COMPACTION_PUTS_PER_CALL } from '../src/limits.js';
import { temporaryDir } from './helpers.js';

// More puts in one record than the smallest calls would take in COMPACTION_CALLS_PER_RECORD_MAX
// calls, so the copy takes it in larger calls, each ending at a put inside the record.
const PUTS = COMPACTION_PUTS_PER_CALL * COMPACTION_CALLS_PER_RECORD_MAX * 3 + 7;

describe('a compaction of a record larger than its calls take', () => {
  it('copies exactly the live puts, and they survive a reopen', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
    kv.putBatch(Array.from({ length: PUTS }, (_, i) => [`key-${i}`, `value-${i}`] as [string, string]));
    kv.deleteBatch(Array.from({ length: Math.ceil(PUTS / 3) }, (_, i) => `key-${i * 3}`));
    await kv.sync();
    await kv.compact();
    await kv.close();

    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.size).toBe(PUTS - Math.ceil(PUTS / 3));
    for (let i = 0; i < PUTS; i++) expect(reopened.get(`key-${i}`)).toBe(i % 3 === 0 ? undefined : `value-${i}`);
    await reopened.close();
  });
});
