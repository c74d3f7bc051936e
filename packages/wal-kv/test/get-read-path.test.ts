import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, expectCode, flipByte, logPath, temporaryDir, text } from './helpers.js';

type Command =
  | { kind: 'put'; key: string; value: Uint8Array }
  | { kind: 'del'; key: string }
  | { kind: 'sync' }
  | { kind: 'compact' }
  | { kind: 'scribble' };

const keyArbitrary = fc.constantFrom('a', 'b', 'key/1', 'key/2', 'é', 'x'.repeat(300));
// Sizes around the slab's room (8 KiB) and the shared buffer (64 KiB) as well as small ones.
const valueArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 7_000, max: 70_000 }).map((length) => new Uint8Array(length).fill(length % 251)) },
);
const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArbitrary, value: valueArbitrary }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyArbitrary }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'scribble' as const }) },
);
const KEYS = ['a', 'b', 'key/1', 'key/2', 'é', 'x'.repeat(300), 'absent'];

function hex(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value).toString('hex');
}

describe('get and getView', () => {
  it('match a Map model whether values are in the write buffer, a mapped log or the log before a compaction, and every value get returned stays as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { maxLength: 30 }), async (commands) => {
        const kv = await WalKv.open<Uint8Array>(temporaryDir(), { durability: { mode: 'explicit' } });
        const model = new Map<string, Uint8Array>();
        // Values get returned, with the bytes they had: later reads must not change them.
        const kept: Array<[Uint8Array, string]> = [];
        try {
          for (const command of commands) {
            if (command.kind === 'put') {
              kv.put(command.key, command.value);
              model.set(command.key, command.value);
            } else if (command.kind === 'del') {
              kv.delete(command.key);
              model.delete(command.key);
            } else if (command.kind === 'sync') {
              await kv.sync();
            } else if (command.kind === 'compact') {
              await kv.compact();
            } else {
              // The caller owns what get returned: writing into it changes nothing else.
              for (const entry of kept) {
                entry[0].fill(0xee);
                entry[1] = hex(entry[0])!;
              }
            }
            for (const key of KEYS) {
              const expected = hex(model.get(key));
              const value = kv.get(key);
              expect(hex(value)).toBe(expected);
              if (value !== undefined) kept.push([value, expected!]);
              expect(hex(kv.getView(key))).toBe(expected);
            }
            for (const [value, expected] of kept) expect(hex(value)).toBe(expected);
          }
        } finally {
          await kv.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('reads every value back as the log grows past several remappings of its last segment, Uint8Array keys too', async () => {
    const kv = await WalKv.open<Uint8Array>(temporaryDir(), { durability: { mode: 'explicit' } });
    const value = (index: number) => new Uint8Array(3_000).fill(index % 256);
    for (let round = 0; round < 12; round++) {
      for (let index = round * 100; index < (round + 1) * 100; index++) kv.put(`k${index}`, value(index));
      if (round % 3 !== 2) await kv.sync();
      let wrong = 0;
      for (let index = 0; index < (round + 1) * 100; index++) {
        if (Buffer.compare(kv.get(`k${index}`)!, value(index)) !== 0) wrong++;
        if (Buffer.compare(kv.getView(bytes(`k${index}`))!, value(index)) !== 0) wrong++;
      }
      expect(wrong).toBe(0);
    }
    await kv.close();
  });

  it('getView of a text store gives the stored bytes; a view is overwritten by the next read, as documented', async () => {
    const kv = await WalKv.open(temporaryDir(), { valueEncoding: 'json' });
    kv.put('one', { n: 1 });
    kv.put('two', 'deux');
    await kv.sync();
    expect(kv.get('one')).toEqual({ n: 1 });
    const view = kv.getView('one')!;
    expect(text(view)).toBe('{"n":1}');
    expect(kv.get('two')).toBe('deux');
    expect(text(view)).not.toBe('{"n":1}');
    expect(kv.getView('three')).toBeUndefined();
    await expectCode(() => kv.getView(''), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.getView(42 as unknown as string), 'KEEL_BAD_ARGUMENT');
    await kv.close();
  });

  it('getView verifies the CRC: a value damaged on disk throws KEEL_CORRUPT', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('k', bytes('a value that will rot'));
    await kv.sync();
    expect(text(kv.getView('k'))).toBe('a value that will rot');
    flipByte(logPath(dir), readFileSync(logPath(dir)).indexOf('will rot') + 2);
    await expectCode(() => kv.getView('k'), 'KEEL_CORRUPT');
    await expectCode(() => kv.get('k'), 'KEEL_CORRUPT');
    await kv.close();
  });
});
