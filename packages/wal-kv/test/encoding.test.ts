import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keyBytesOf, writeKey } from '../src/encoding.js';
import { WalKv } from '../src/index.js';
import { temporaryDir } from './helpers.js';

describe('value and key encodings round-trip through a reopen', () => {
  it("valueEncoding 'utf8'", async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    kv.put('greeting', 'héllo wörld ✓');
    kv.put('empty', '');
    await kv.close();
    const again = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(again.get('greeting')).toBe('héllo wörld ✓');
    expect(again.get('empty')).toBe('');
    await again.close();
  });

  it("valueEncoding 'json'", async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir, { valueEncoding: 'json' });
    const document = { name: 'keel', list: [1, 2.5, null, true], nested: { deep: 'ü' } };
    kv.put('doc', document);
    kv.putBatch([['n', 42], ['s', 'text'], ['nil', null]]);
    await kv.close();
    const again = await WalKv.open(dir, { valueEncoding: 'json' });
    expect(again.get('doc')).toEqual(document);
    expect(again.get('n')).toBe(42);
    expect(again.get('s')).toBe('text');
    expect(again.get('nil')).toBeNull();
    expect(again.has('nil')).toBe(true);
    await again.close();
  });

  it('string and byte keys name the same key; keyEncoding decides what iteration returns', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    kv.put('ключ', 'cyrillic');
    expect(kv.get(Buffer.from('ключ', 'utf8'))).toBe('cyrillic');
    kv.put(new Uint8Array([0xff, 0x00, 0x80]), 'binary');
    expect(kv.get(Buffer.from([0xff, 0x00, 0x80]))).toBe('binary');
    await kv.close();
    const binary = await WalKv.open<string>(dir, { valueEncoding: 'utf8', keyEncoding: 'binary' });
    const keys = [...binary.keys()].map((key) => Buffer.from(key as Uint8Array).toString('hex'));
    // Byte order: d0... (ключ in UTF-8) sorts before ff...
    expect(keys).toEqual([Buffer.from('ключ').toString('hex'), 'ff0080']);
    await binary.close();
    const utf8 = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect([...utf8.keys()][0]).toBe('ключ');
    expect([...utf8.entries({ prefix: 'кл' })]).toEqual([['ключ', 'cyrillic']]);
    await utf8.close();
  });
});

describe('writeKey', () => {
  it('writes the byte form of any key, short or long, as Buffer.from does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.uint8Array({ minLength: 1, maxLength: 80 })), fc.nat(16), (key, offset) => {
        fc.pre(key.length > 0);
        const bytes = keyBytesOf(key);
        const target = Buffer.alloc(offset + bytes.length + 4, 0xee);
        writeKey(target, bytes, offset);
        const expected = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
        expect(target.subarray(offset, offset + bytes.length).equals(expected)).toBe(true);
        expect(target.subarray(0, offset).every((byte) => byte === 0xee)).toBe(true);
        expect(target.subarray(offset + bytes.length).every((byte) => byte === 0xee)).toBe(true);
      }),
    );
  });

  it('finds one non-ASCII character anywhere in an otherwise ASCII key, short or long', () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)), maxLength: 40 });
    const other = fc.integer({ min: 0x80, max: 0xffff }).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(ascii, other, ascii, (before, character, after) => {
        const key = before + character + after;
        const bytes = keyBytesOf(key);
        expect(typeof bytes).not.toBe('string');
        expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from(key, 'utf8'))).toBe(true);
        expect(keyBytesOf(before + after || 'k')).toBe(before + after || 'k');
      }),
    );
  });
});
