import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { expectCode, temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;

/** Keys from a small alphabet, including bytes above 0x7f and 0xff, so that ranges and prefixes meet often. */
const keyBytes = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => Buffer.from(bytes.map((byte) => [0x00, 0x61, 0x62, 0x7f, 0xc3, 0xff][byte % 6]!)));
const boundBytes = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((bytes) => Buffer.from(bytes.map((byte) => [0x00, 0x61, 0x62, 0x7f, 0xc3, 0xff][byte % 6]!)));

interface Query {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  prefix?: Buffer;
  reverse: boolean;
  limit?: number;
}

const query: fc.Arbitrary<Query> = fc.record(
  {
    gt: boundBytes,
    gte: boundBytes,
    lt: boundBytes,
    lte: boundBytes,
    prefix: boundBytes,
    reverse: fc.boolean(),
    limit: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)),
  },
  { requiredKeys: ['reverse'] },
).map((options) => {
  // gt/gte and lt/lte are exclusive of each other (both given is a bad argument).
  if (options.gt !== undefined) delete options.gte;
  if (options.lt !== undefined) delete options.lte;
  return options;
});

/** What a query returns from a model: every key in byte order, filtered, reversed, limited. */
function expected(model: Map<string, Buffer>, options: Query): string[] {
  let keys = [...model.values()].sort(Buffer.compare).filter((key) => {
    if (options.gt !== undefined && Buffer.compare(key, options.gt) <= 0) return false;
    if (options.gte !== undefined && Buffer.compare(key, options.gte) < 0) return false;
    if (options.lt !== undefined && Buffer.compare(key, options.lt) >= 0) return false;
    if (options.lte !== undefined && Buffer.compare(key, options.lte) > 0) return false;
    if (options.prefix !== undefined && !key.subarray(0, options.prefix.length).equals(options.prefix)) return false;
    return true;
  });
  if (options.reverse) keys.reverse();
  if (options.limit !== undefined && options.limit >= 0) keys = keys.slice(0, options.limit);
  return keys.map((key) => key.toString('hex'));
}

describe('ranges: keys / values / entries with gt, gte, lt, lte, reverse, limit, prefix', () => {
  it('match a sorted model of the keys, through writes, deletes, checkpoints, compactions and reopens', async () => {
    const operation = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyBytes }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyBytes }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('query' as const), query }) },
      { weight: 1, arbitrary: fc.constantFrom({ kind: 'snapshot' as const }, { kind: 'compact' as const }, { kind: 'reopen' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 60 }), async (operations) => {
        const dir = temporaryDir();
        const options = { durability: EXPLICIT, keyEncoding: 'binary' as const };
        let kv = await WalKv.open<Uint8Array>(dir, options);
        const model = new Map<string, Buffer>();
        try {
          for (const [step, next] of operations.entries()) {
            if (next.kind === 'put') {
              kv.put(next.key, Buffer.from(String(step)));
              model.set(next.key.toString('hex'), next.key);
            } else if (next.kind === 'del') {
              kv.delete(next.key);
              model.delete(next.key.toString('hex'));
            } else if (next.kind === 'snapshot') await kv.checkpoint();
            else if (next.kind === 'compact') await kv.compact();
            else if (next.kind === 'reopen') {
              await kv.close();
              kv = await WalKv.open<Uint8Array>(dir, options);
            } else {
              const want = expected(model, next.query);
              expect([...kv.keys(next.query)].map((key) => Buffer.from(key).toString('hex'))).toEqual(want);
              expect([...kv.entries(next.query)].map(([key]) => Buffer.from(key).toString('hex'))).toEqual(want);
              expect([...kv.values(next.query)].length).toBe(want.length);
            }
          }
        } finally {
          await kv.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('walks ranges longer than one batch of the index, forwards and backwards, and values follow their keys', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { durability: EXPLICIT, valueEncoding: 'utf8' });
    const keyOf = (i: number): string => `k${String(i).padStart(5, '0')}`;
    for (let start = 0; start < 2000; start += 500) kv.putBatch(Array.from({ length: 500 }, (_, i) => [keyOf(start + i), `v${start + i}`] as [string, string]));
    expect([...kv.keys({ gte: keyOf(100), lt: keyOf(1700) })]).toEqual(Array.from({ length: 1600 }, (_, i) => keyOf(100 + i)));
    expect([...kv.keys({ gt: keyOf(100), lte: keyOf(1700), reverse: true })]).toEqual(Array.from({ length: 1600 }, (_, i) => keyOf(1700 - i)));
    expect([...kv.entries({ gte: keyOf(1990) })]).toEqual(Array.from({ length: 10 }, (_, i) => [keyOf(1990 + i), `v${1990 + i}`]));
    expect([...kv.values({ limit: 3, reverse: true })]).toEqual(['v1999', 'v1998', 'v1997']);
    expect([...kv.keys({ prefix: 'k019', limit: 2 })]).toEqual([keyOf(1900), keyOf(1901)]);
    await kv.close();
  });

  it('refuses bad range options with KEEL_BAD_ARGUMENT', async () => {
    const kv = await WalKv.open(temporaryDir(), { durability: EXPLICIT });
    for (const options of [{ gt: 'a', gte: 'a' }, { lt: 'a', lte: 'b' }, { reverse: 1 }, { limit: -2 }, { limit: 1.5 }, { gte: 5 }, null]) {
      await expectCode(() => [...kv.keys(options as never)], 'KEEL_BAD_ARGUMENT');
    }
    await kv.close();
  });
});
