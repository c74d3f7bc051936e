import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundBytesOf, keyBuffer, keyBytesOf, writeKey, writeUtf8Key } from '../src/encoding.js';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

/**
 * UTF-16 code units where a fast path for ASCII could go wrong: the last ASCII one,
 * Latin-1 ones (one byte each if mistaken for ASCII), the edges of two- and three-byte
 * UTF-8, lone surrogates of both halves (U+FFFD in UTF-8, as Buffer.from writes them)
 * and a surrogate pair (four bytes).
 */
const TRICKY_UNITS = ['\x00', '\x7f', '\x80', '\xe9', '\xff', '\u0100', '\u07ff', '\u0800', '\ufffd', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00'];

/**
 * ASCII keys of lengths around where checks and copies change strategy (32 characters;
 * 341, the longest string a get writes into its fixed buffer), with a few tricky units
 * put anywhere.
 */
const stringKey = fc
  .tuple(fc.constantFrom(0, 1, 30, 31, 32, 33, 64, 340, 341, 342), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TRICKY_UNITS)), { maxLength: 2 }), fc.nat(25))
  .map(([length, inserts, shift]) => {
    let key = Array.from({ length }, (_, i) => String.fromCharCode(0x61 + ((i + shift) % 26))).join('');
    for (const [at, unit] of inserts) key = key.slice(0, at % (key.length + 1)) + unit + key.slice(at % (key.length + 1));
    return key;
  })
  .filter((key) => key.length > 0);

const utf8 = (key: string): Buffer => Buffer.from(key, 'utf8');

describe('string keys near the ASCII checks', () => {
  it('have exactly the bytes Buffer.from(key, "utf8") gives, however they are checked and copied', () => {
    fc.assert(
      fc.property(stringKey, (key) => {
        const expected = utf8(key);
        for (const bytes of [keyBytesOf(key), boundBytesOf(key, 'gte')]) {
          // A string stands for itself only when it is ASCII (its latin1 bytes are then its UTF-8 bytes).
          if (typeof bytes === 'string') expect(/^[\x00-\x7f]*$/.test(bytes)).toBe(true);
          expect(Buffer.from(keyBuffer(bytes)).equals(expected)).toBe(true);
          const written = Buffer.alloc(expected.length + 2, 0xee);
          writeKey(written, bytes, 1);
          expect(written.subarray(1, -1).equals(expected)).toBe(true);
        }
        const target = Buffer.alloc(3 * key.length, 0xee);
        const length = writeUtf8Key(target, key);
        expect(target.subarray(0, length).equals(expected)).toBe(true);
      }),
    );
  });

  it('name the same key as their UTF-8 bytes in puts, gets, ranges and a compaction, in UTF-8 byte order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stringKey, { minLength: 1, maxLength: 40 }), async (keys) => {
        const dir = temporaryDir();
        const options = { valueEncoding: 'utf8' as const, durability: { mode: 'explicit' as const } };
        const kv = await WalKv.open<string>(dir, options);
        // By UTF-8 bytes: lone surrogates of either half are one key, U+FFFD.
        const model = new Map<string, string>();
        keys.forEach((key, i) => {
          if (i % 2 === 0) kv.put(key, `v${i}`);
          else kv.putBatch([[key, `v${i}`]]);
          model.set(utf8(key).toString('hex'), `v${i}`);
        });
        const check = (store: WalKv<string>): void => {
          for (const key of keys) {
            const value = model.get(utf8(key).toString('hex'));
            expect(store.get(key)).toBe(value);
            expect(store.get(utf8(key))).toBe(value);
            expect(store.has(key)).toBe(true);
          }
          const ordered = [...model.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
          expect([...store.keys()].map((key) => utf8(key as string).toString('hex'))).toEqual(ordered);
          // A range from each key on starts at it.
          for (const key of keys) expect(utf8([...store.keys({ gte: key, limit: 1 })][0] as string).equals(utf8(key))).toBe(true);
        };
        check(kv);
        // Half of them deleted (by the other spelling), then compacted and reopened.
        keys.forEach((key, i) => {
          if (i % 2 === 1 && model.delete(utf8(key).toString('hex'))) kv.delete(utf8(key));
        });
        await kv.compact();
        await kv.close();
        const reopened = await WalKv.open<string>(dir, options);
        const survivors = keys.filter((key) => model.has(utf8(key).toString('hex')));
        for (const key of keys) if (!survivors.includes(key)) expect(reopened.has(key)).toBe(false);
        keys.splice(0, keys.length, ...survivors);
        check(reopened);
        await reopened.close();
      }),
      { numRuns: 60 },
    );
  });
});
