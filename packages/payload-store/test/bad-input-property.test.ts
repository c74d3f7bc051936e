import { methodEntryPoint, methodsWithoutArguments, runBadInput, type BadInputSubject } from '@keel/conformance';
import { expect, it } from 'vitest';
import { PayloadStore, type PayloadRef } from '../src/index.js';

const payload = new Uint8Array([1, 2, 3]);
/** The first payload of a fresh store: the one `read` and `compact` are given. */
let firstRef: PayloadRef = { segment: 1, offset: 64, length: 3 };

const subject: BadInputSubject<PayloadStore> = {
  name: 'payload-store',
  pathInDirectory: 'store',
  validOptions: { segmentBytes: 4096, durability: { mode: 'explicit' }, recovery: 'truncate-tail', verify: 'full', io: undefined },
  opens: [{ name: 'PayloadStore.open', open: (path, options) => PayloadStore.open(path as string, options as never) }],
  async openPopulated(path) {
    const store = await PayloadStore.open(path, { segmentBytes: 4096, durability: { mode: 'explicit' } });
    [firstRef] = store.appendBatch([payload, payload]) as [PayloadRef];
    await store.sync();
    return store;
  },
  close: (store) => store.close(),
  entryPoints: [
    methodEntryPoint('append', [payload]),
    methodEntryPoint('appendBatch', [[payload, payload]]),
    { name: 'read', valid: [{ segment: 1, offset: 0, length: 3 }], call: (store, [ref]) => store.read(withFirstRef(ref)) },
    { name: 'compact', valid: [[{ segment: 1, offset: 0, length: 3 }], { seal: true }], call: (store, [refs, options]) => store.compact(Array.isArray(refs) ? refs.map(withFirstRef) : (refs as never), options as never) },
    ...methodsWithoutArguments('scan', 'seal', 'pendingCompaction', 'sync', 'diskUsage', 'segments', 'stats'),
  ],
};

/** A ref whose valid offset is the populated store's real one; a planted part stays as planted. */
function withFirstRef(ref: unknown): never {
  if (ref === null || typeof ref !== 'object' || (ref as PayloadRef).offset !== 0) return ref as never;
  return { ...(ref as object), offset: firstRef.offset } as never;
}

it('turns every wrong type in every option and argument into a KeelError, and a refused open changes nothing', async () => {
  expect(await runBadInput(subject)).toBeGreaterThan(0);
});
