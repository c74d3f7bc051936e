import { describe, expect, expectTypeOf, it } from 'vitest';
import { WalKv, type WalKvOptions } from '../src/index.js';
import { temporaryDir } from './helpers.js';

/**
 * The value type follows the encoding. The `@ts-expect-error` lines are checked by
 * `pnpm typecheck` (an unneeded one is an error there); the run-time part shows the
 * refused calls are the ones that would throw KEEL_BAD_ARGUMENT.
 */
describe('value types follow valueEncoding', () => {
  it('infers V from the encoding and refuses a V the encoding cannot hold', async () => {
    const dir = temporaryDir();
    const binary = await WalKv.open(dir);
    expectTypeOf(binary).toEqualTypeOf<WalKv<Uint8Array>>();
    expectTypeOf(binary.get('k')).toEqualTypeOf<Uint8Array | undefined>();
    // @ts-expect-error a number is not bytes
    expect(() => binary.put('n', 42)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    await binary.close();

    // @ts-expect-error the default encoding stores bytes, not numbers
    void (() => WalKv.open<number>(dir));
    // @ts-expect-error 'utf8' stores strings
    void (() => WalKv.open<number>(dir, { valueEncoding: 'utf8' }));
    // @ts-expect-error 'binary' stores bytes
    void (() => WalKv.open<string>(dir, { valueEncoding: 'binary' }));

    const text = await WalKv.open(dir, { valueEncoding: 'utf8' });
    expectTypeOf(text).toEqualTypeOf<WalKv<string>>();
    expectTypeOf(text.snapshot().get('k')).toEqualTypeOf<string | undefined>();
    // @ts-expect-error bytes are not a string
    expect(() => text.put('b', new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
    await text.close();

    const json = await WalKv.open<{ n: number }>(dir, { valueEncoding: 'json' });
    expectTypeOf(json.get('k')).toEqualTypeOf<{ n: number } | undefined>();
    json.put('k', { n: 1 });
    expect(json.get('k')).toEqual({ n: 1 });
    await json.close();

    // An encoding known only at run time: values are unknown, and no V may be claimed.
    const options: WalKvOptions = { valueEncoding: 'utf8' };
    const any = await WalKv.open(dir, options);
    expectTypeOf(any).toEqualTypeOf<WalKv<unknown>>();
    // @ts-expect-error V cannot be named without a literal encoding
    void (() => WalKv.open<string>(dir, options));
    await any.close();
  });
});
