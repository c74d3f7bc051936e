import { methodEntryPoint, methodsWithoutArguments, runBadInput, type BadInputSubject } from '@keel/conformance';
import { expect, it } from 'vitest';
import { Journal, JournalReader } from '../src/index.js';

const payload = new Uint8Array([1, 2, 3]);

const subject: BadInputSubject<Journal> = {
  name: 'journal',
  pathInDirectory: 'wal',
  validOptions: { durability: { mode: 'explicit' }, direct: false, preallocate: 4096, recovery: 'truncate-tail', io: undefined, writeBufferBytes: 65_536 },
  opens: [
    { name: 'Journal.open', open: (path, options) => Journal.open(path as string, options as never) },
    { name: 'JournalReader.open', open: (path, options) => JournalReader.open(path as string, options as never) },
  ],
  async openPopulated(path) {
    const journal = await Journal.open(path, { durability: { mode: 'explicit' } });
    journal.appendBatch([payload, payload]);
    await journal.sync();
    return journal;
  },
  close: (journal) => journal.close(),
  entryPoints: [
    methodEntryPoint('append', [payload]),
    methodEntryPoint('appendBatch', [[payload, payload]]),
    methodEntryPoint('syncThrough', [11]),
    methodEntryPoint('records', [{ from: 11 }]),
    methodEntryPoint('stream', [{ from: 0, signal: new AbortController().signal }]),
    methodEntryPoint('preallocate', [4096]),
    methodEntryPoint('advise', [0, 22, 'sequential']),
    ...methodsWithoutArguments('sync', 'stats'),
  ],
};

it('turns every wrong type in every option and argument into a KeelError, and a refused open changes nothing', async () => {
  expect(await runBadInput(subject)).toBeGreaterThan(0);
});
