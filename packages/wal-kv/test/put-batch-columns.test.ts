import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { expectCode, temporaryDir } from './helpers.js';

describe('putBatch(keys, values)', () => {
  it('writes the same record as putBatch of the pairs: same seqs, same log bytes, same contents', async () => {
    const key = fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.uint8Array({ minLength: 1, maxLength: 6 }));
    const batch = fc.array(fc.tuple(key, fc.uint8Array({ maxLength: 20 })), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 5 }), async (batches) => {
        const pairs = await WalKv.open(temporaryDir(), { keyEncoding: 'binary' });
        const columns = await WalKv.open(temporaryDir(), { keyEncoding: 'binary' });
        try {
          for (const entries of batches) {
            const seq = pairs.putBatch(entries);
            expect(columns.putBatch(entries.map(([k]) => k), entries.map(([, v]) => v))).toBe(seq);
            expect(columns.stats().logBytes).toBe(pairs.stats().logBytes);
          }
          expect([...columns.entries()]).toEqual([...pairs.entries()]);
        } finally {
          await pairs.close();
          await columns.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses arrays of different lengths, a non-array, or a bad key or value anywhere, writing nothing', async () => {
    const kv = await WalKv.open(temporaryDir());
    kv.put('a', Buffer.from('1'));
    const seq = kv.stats().lastSeq;
    const logBytes = kv.stats().logBytes;
    const value = Buffer.from('v');
    await expectCode(() => kv.putBatch(['b', 'c'], [value]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.putBatch(['b'], 'v' as unknown as Buffer[]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.putBatch(['b', ''], [value, value]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.putBatch(['b', 'c'], [value, 'text' as unknown as Buffer]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.putBatch(['b', 'x'.repeat(0x10000)], [value, value]), 'KEEL_TOO_LARGE');
    expect(kv.stats().lastSeq).toBe(seq);
    expect(kv.stats().logBytes).toBe(logBytes);
    expect([...kv.keys()]).toEqual(['a']);
    await kv.close();
  });
});

describe('deleteBatch(keys)', () => {
  it('writes the same record as batch() of the deletes, and refuses a bad key anywhere, writing nothing', async () => {
    const deletes = await WalKv.open(temporaryDir());
    const batch = await WalKv.open(temporaryDir());
    const value = Buffer.from('v');
    for (const kv of [deletes, batch]) kv.putBatch(['a', 'b', 'c'], [value, value, value]);
    const keys = ['a', 'zz', Buffer.from('c'), 'a'];
    expect(deletes.deleteBatch(keys)).toBe(batch.batch(keys.map((key) => ({ type: 'del' as const, key }))));
    expect(deletes.stats().logBytes).toBe(batch.stats().logBytes);
    expect([...deletes.keys()]).toEqual(['b']);
    const logBytes = deletes.stats().logBytes;
    await expectCode(() => deletes.deleteBatch(['b', '']), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => deletes.deleteBatch('b' as unknown as string[]), 'KEEL_BAD_ARGUMENT');
    expect(deletes.stats().logBytes).toBe(logBytes);
    expect([...deletes.keys()]).toEqual(['b']);
    await deletes.close();
    await batch.close();
  });
});
