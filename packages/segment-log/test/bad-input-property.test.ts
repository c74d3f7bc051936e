import { BAD_INPUT_DRAINED_ITEMS_MAX, methodEntryPoint, methodsWithoutArguments, runBadInput, type BadInputSubject } from '@keel/conformance';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';

const value = new Uint8Array([1, 2, 3]);

const subject: BadInputSubject<SegmentLog> = {
  name: 'segment-log',
  pathInDirectory: 'log',
  validOptions: {
    segmentBytes: 4096,
    segmentMs: 60_000,
    indexIntervalBytes: 256,
    durability: { mode: 'explicit' },
    retention: { bytes: 1 << 20, ms: 60_000 },
    recovery: 'truncate-tail',
    verify: 'full',
    now: () => 10,
    io: undefined,
  },
  opens: [{ name: 'SegmentLog.open', open: (path, options) => SegmentLog.open(path as string, options as never) }],
  async openPopulated(path) {
    const log = await SegmentLog.open(path, { segmentBytes: 4096, durability: { mode: 'explicit' } });
    // A hostile `follow: true` is a valid stream: it must find every record its drain asks for.
    const plain = Array.from({ length: BAD_INPUT_DRAINED_ITEMS_MAX }, () => ({ value, timestamp: 6 }));
    log.appendBatch([{ value, key: value, timestamp: 5, headers: [['h', value]] }, ...plain]);
    await log.sync();
    return log;
  },
  close: (log) => log.close(),
  entryPoints: [
    methodEntryPoint('append', [{ value, key: value, timestamp: 7, headers: [['h', value]] }]),
    methodEntryPoint('appendBatch', [[{ value, key: null, timestamp: 7, headers: [] }]]),
    methodEntryPoint('read', [0, { maxBytes: 1024, maxRecords: 2 }]),
    methodEntryPoint('stream', [{ from: 0, follow: false, signal: new AbortController().signal }]),
    methodEntryPoint('offsetForTimestamp', [5]),
    methodEntryPoint('deleteBefore', [1]),
    ...methodsWithoutArguments('roll', 'sync', 'enforceRetention', 'segments', 'verify', 'stats'),
  ],
};

it('turns every wrong type in every option and argument into a KeelError, and a refused open changes nothing', async () => {
  expect(await runBadInput(subject)).toBeGreaterThan(0);
});
