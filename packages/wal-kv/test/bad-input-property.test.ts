import { methodEntryPoint, methodsWithoutArguments, runBadInput, type BadInputSubject } from '@keel/conformance';
import { expect, it } from 'vitest';
import { WalKv } from '../src/index.js';

const subject: BadInputSubject<WalKv> = {
  name: 'wal-kv',
  pathInDirectory: 'kv',
  validOptions: {
    durability: { mode: 'explicit' },
    checkpointEveryBytes: 4096,
    compactWhenGarbageRatio: 0.9,
    valueEncoding: 'json',
    keyEncoding: 'utf8',
    recovery: 'truncate-tail',
    keysMax: 1000,
    io: undefined,
  },
  opens: [{ name: 'WalKv.open', open: (path, options) => WalKv.open(path as string, options as never) }],
  async openPopulated(path) {
    const kv = await WalKv.open(path, { durability: { mode: 'explicit' }, valueEncoding: 'json' });
    kv.putBatch([
      ['a', { n: 1 }],
      ['b', [2]],
    ]);
    await kv.sync();
    return kv;
  },
  close: (kv) => kv.close(),
  entryPoints: [
    methodEntryPoint('put', ['k', { n: [1, 'x'] }]),
    methodEntryPoint('delete', ['a']),
    methodEntryPoint('putBatch', [[['k', { n: 1 }], [new Uint8Array([107]), 2]]]),
    methodEntryPoint('batch', [[{ type: 'put', key: 'k', value: { n: 1 } }, { type: 'del', key: 'a' }]]),
    methodEntryPoint('get', ['a']),
    methodEntryPoint('has', ['a']),
    methodEntryPoint('keys', [{ prefix: 'a' }]),
    methodEntryPoint('entries', [{ prefix: 'a' }]),
    ...methodsWithoutArguments('sync', 'checkpoint', 'compact', 'stats'),
  ],
};

it('turns every wrong type in every option and argument into a KeelError, and a refused open changes nothing', async () => {
  expect(await runBadInput(subject)).toBeGreaterThan(0);
});
