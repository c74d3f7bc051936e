import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEYS_MAX, WalKv } from '../src/index.js';
import { bytes, expectCode, temporaryDir } from './helpers.js';

const EXPLICIT = { mode: 'explicit' } as const;

/** Every file of `dir` with its bytes: what "nothing was changed" compares. */
function directoryContents(dir: string): Map<string, string> {
  const contents = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) contents.set(name, readFileSync(join(dir, name)).toString('hex'));
  return contents;
}

describe('the key-count limit', () => {
  it('is a documented constant within what the native index can address', () => {
    expect(KEYS_MAX).toBe(2 ** 31);
  });

  it('refuses, before anything is written, a write that would pass keysMax; overwrites and deletes still work', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<Uint8Array>(dir, { durability: EXPLICIT, keysMax: 3 });
    kv.putBatch([
      ['a', bytes('1')],
      ['b', bytes('2')],
      ['c', bytes('3')],
    ]);
    const before = kv.stats();
    await expectCode(() => kv.put('d', bytes('4')), 'KEEL_TOO_LARGE');
    await expectCode(
      () =>
        kv.batch([
          { type: 'put', key: 'd', value: bytes('4') },
          { type: 'put', key: 'e', value: bytes('5') },
          { type: 'del', key: 'a' },
        ]),
      'KEEL_TOO_LARGE',
    );
    expect(kv.stats().logBytes).toBe(before.logBytes);
    expect(kv.stats().lastSeq).toBe(before.lastSeq);
    expect([...kv.keys()]).toEqual(['a', 'b', 'c']);
    // At the limit: overwrites, a batch that ends within it, and deletes.
    kv.put('a', bytes('1b'));
    kv.batch([
      { type: 'put', key: 'd', value: bytes('4') },
      { type: 'del', key: 'b' },
    ]);
    kv.delete('zz');
    expect([...kv.keys()]).toEqual(['a', 'c', 'd']);
    await kv.close();
    const reopened = await WalKv.open<Uint8Array>(dir, { durability: EXPLICIT, keysMax: 3 });
    expect([...reopened.keys()]).toEqual(['a', 'c', 'd']);
    await reopened.close();
  });

  it('refuses with KEEL_TOO_LARGE, changing nothing, to open a store that holds more keys than keysMax (log replay and snapshot)', async () => {
    for (const checkpoint of [false, true]) {
      const dir = temporaryDir();
      const kv = await WalKv.open<Uint8Array>(dir, { durability: EXPLICIT, checkpointEveryBytes: Infinity });
      for (let i = 0; i < 10; i++) kv.put(`k${i}`, bytes(String(i)));
      if (checkpoint) await kv.checkpoint();
      await kv.close();
      const before = directoryContents(dir);
      await expectCode(() => WalKv.open(dir, { durability: EXPLICIT, keysMax: 9 }), 'KEEL_TOO_LARGE');
      expect(directoryContents(dir)).toEqual(before);
      const reopened = await WalKv.open<Uint8Array>(dir, { durability: EXPLICIT, keysMax: 10 });
      expect(reopened.size).toBe(10);
      await reopened.close();
    }
  });

  it('a store at its limit always reopens: any writes, snapshots, compactions and reopens under a small keysMax', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const operation = fc.oneof(fc.record({ type: fc.constant('put' as const), key }), fc.record({ type: fc.constant('del' as const), key }));
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.array(operation, { minLength: 1, maxLength: 5 }) },
      { weight: 1, arbitrary: fc.constantFrom('reopen' as const, 'snapshot' as const, 'compact' as const) },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(command, { maxLength: 30 }), async (keysMax, commands) => {
        const dir = temporaryDir();
        const options = { durability: EXPLICIT, keysMax, checkpointEveryBytes: 200 };
        let kv = await WalKv.open<Uint8Array>(dir, options);
        const model = new Map<string, string>();
        try {
          for (const [step, next] of commands.entries()) {
            if (next === 'reopen') {
              await kv.close();
              kv = await WalKv.open<Uint8Array>(dir, options);
            } else if (next === 'snapshot') await kv.checkpoint();
            else if (next === 'compact') await kv.compact();
            else {
              const after = new Map(model);
              for (const { type, key: name } of next) {
                if (type === 'put') after.set(name, String(step));
                else after.delete(name);
              }
              const refused = after.size > keysMax && after.size > model.size;
              const write = (): number => kv.batch(next.map(({ type, key: name }) => (type === 'put' ? { type, key: name, value: bytes(String(step)) } : { type, key: name })));
              if (refused) await expectCode(write, 'KEEL_TOO_LARGE');
              else {
                write();
                model.clear();
                for (const [name, value] of after) model.set(name, value);
              }
            }
            expect(kv.size).toBe(model.size);
          }
        } finally {
          await kv.close();
        }
        const reopened = await WalKv.open<Uint8Array>(dir, options);
        expect(Object.fromEntries([...reopened.entries()].map(([name, value]) => [name, Buffer.from(value).toString()]))).toEqual(Object.fromEntries(model));
        await reopened.close();
      }),
      { numRuns: 40 },
    );
  });
});
