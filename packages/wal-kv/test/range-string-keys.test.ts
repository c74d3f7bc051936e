import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;

/**
 * String keys of ASCII characters, sometimes with one that is not (two, three and four
 * UTF-8 bytes): a batch of the index is handed out as slices of one string only when
 * all of its bytes are ASCII, and these keys make batches of both kinds, and batches
 * that mix them.
 */
const stringKey = fc
  .array(fc.constantFrom('a', 'b', 'z', '~', '\x7f', '0', 'é', '€', '😀'), { minLength: 1, maxLength: 6 })
  .map((characters) => characters.join(''));

/** The model's keys in the store's order (by their UTF-8 bytes), as strings. */
function sortedKeys(model: Set<string>): string[] {
  return [...model].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

describe('ranges over string keys (keyEncoding utf8)', () => {
  it('hand out the keys written, in UTF-8 byte order, across batches of ASCII and other keys, with writes between steps (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(stringKey, { minLength: 1, maxLength: 700 }), fc.boolean(), fc.array(stringKey, { maxLength: 5 }), async (keys, reverse, written) => {
        const dir = temporaryDir();
        const kv = await WalKv.open<string>(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
        try {
          kv.putBatch(keys.map((key) => [key, `v:${key}`] as [string, string]));
          const model = new Set(keys);
          const order = reverse ? sortedKeys(model).reverse() : sortedKeys(model);
          expect([...kv.keys({ reverse })]).toEqual(order);
          // An iterator reads as of its creation: overwrites and deletes while it runs do not show.
          const walked: [string, string][] = [];
          const entries = kv.entries({ reverse });
          for (const entry of entries) {
            walked.push(entry as [string, string]);
            if (walked.length === 1) {
              for (const key of written) kv.put(key, `new:${key}`);
              kv.delete(order[order.length - 1]!);
            }
          }
          expect(walked).toEqual(order.map((key) => [key, `v:${key}`]));
        } finally {
          await kv.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('hand out non-ASCII keys in a batch of otherwise ASCII keys, from a read view and with bounds', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
    const keys = Array.from({ length: 600 }, (_, i) => (i === 300 ? `k${String(i).padStart(4, '0')}é` : `k${String(i).padStart(4, '0')}`));
    kv.putBatch(keys.map((key) => [key, key] as [string, string]));
    const view = kv.snapshot();
    kv.delete(keys[299]!);
    expect([...view.keys({ gte: 'k0290', lt: 'k0310' })]).toEqual(keys.slice(290, 310));
    expect([...kv.keys({ gte: 'k0290', lt: 'k0310', reverse: true })]).toEqual([...keys.slice(290, 299), ...keys.slice(300, 310)].reverse());
    expect([...kv.values({ prefix: 'k0300' })]).toEqual(['k0300é']);
    view.close();
    await kv.close();
  });

  it('hand out each key of a binary-keyed store as bytes of its own, which later batches do not change', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { durability: EXPLICIT, valueEncoding: 'utf8', keyEncoding: 'binary' });
    const keyOf = (i: number): Buffer => Buffer.from(`k${String(i).padStart(4, '0')}`);
    kv.putBatch(Array.from({ length: 1000 }, (_, i) => [keyOf(i), `v${i}`] as [Buffer, string]));
    const handed = [...kv.keys()] as Uint8Array[];
    expect(handed.map((key) => Buffer.from(key).toString())).toEqual(Array.from({ length: 1000 }, (_, i) => keyOf(i).toString()));
    await kv.close();
  });
});
