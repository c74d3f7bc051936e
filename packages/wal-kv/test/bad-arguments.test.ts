import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEY_BYTES_MAX, VALUE_BYTES_MAX, WalKv } from '../src/index.js';
import { bytes, expectCode, logPath, temporaryDir } from './helpers.js';

describe('bad keys, values and options get KeelErrors and change nothing on disk', () => {
  it('rejects bad keys and values', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('kept', bytes('1'));
    await kv.sync();
    const size = statSync(logPath(dir)).size;
    const store = kv as unknown as WalKv<unknown>;
    await expectCode(() => store.put('', bytes('x')), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.put(new Uint8Array(0), bytes('x')), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.put(42 as never, bytes('x')), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.put('k', 'not bytes'), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.put('k', undefined), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.put('k'.repeat(KEY_BYTES_MAX + 1), bytes('x')), 'KEEL_TOO_LARGE');
    await expectCode(() => store.put('k', new Uint8Array(VALUE_BYTES_MAX + 1)), 'KEEL_TOO_LARGE');
    await expectCode(() => store.delete(null as never), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.get({} as never), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.putBatch('nope' as never), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.putBatch([['a', bytes('1')], ['b'] as never]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.batch([{ type: 'put', key: 'a', value: bytes('1') }, { type: 'upsert', key: 'b' } as never]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => store.batch([{ type: 'put', key: 'a', value: bytes('1') }, { type: 'del', key: '' }]), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => [...store.keys({ prefix: 7 as never })], 'KEEL_BAD_ARGUMENT');
    // Nothing of a rejected batch is visible, and nothing reached the log.
    expect(kv.has('a')).toBe(false);
    expect(kv.stats().lastSeq).toBe(1);
    await kv.sync();
    expect(statSync(logPath(dir)).size).toBe(size);
    await kv.close();
  });

  it('rejects values JSON cannot hold', async () => {
    const kv = await WalKv.open(temporaryDir(), { valueEncoding: 'json' });
    await expectCode(() => kv.put('k', undefined), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => kv.put('k', 10n), 'KEEL_BAD_ARGUMENT');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expectCode(() => kv.put('k', cyclic), 'KEEL_BAD_ARGUMENT');
    expect(kv.size).toBe(0);
    await kv.close();
  });

  it('rejects bad options before touching disk', async () => {
    const dir = temporaryDir();
    await expectCode(() => WalKv.open(''), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { durability: { mode: 'sometimes' } as never }), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { checkpointEveryBytes: -1 }), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { compactWhenGarbageRatio: 0 }), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { valueEncoding: 'base64' as never }), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { keyEncoding: 'hex' as never }), 'KEEL_BAD_ARGUMENT');
    await expectCode(() => WalKv.open(dir, { recovery: 'yolo' as never }), 'KEEL_BAD_ARGUMENT');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual([]);
  });
});
