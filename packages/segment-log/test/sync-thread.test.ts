import { basename } from 'node:path';
import { InterceptedIo, nativeIo, type IoFile } from '@keel/core';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES, PREPARED_SEGMENT_NAME } from '../src/format.js';
import { tempDir } from './helpers.js';

/** Records of 100 bytes (104 in a batch frame, behind the frame's 32): a segment holds four of one append, fewer from several. */
const SEGMENT_BYTES = HEADER_BYTES + BATCH_OVERHEAD_BYTES + 4 * 104;

/** nativeIo whose `.log` handles (and the prepared file's) report which started a sync thread, which of those were closed, and where their syncs ran. */
class SyncThreadCounter extends InterceptedIo {
  started = 0;
  stopped = 0;
  /** The most handles with a running thread at once. */
  runningMax = 0;
  /** Async datasyncs of `.log` handles with and without a thread of their own. */
  threadSyncs = 0;
  poolSyncs = 0;
  /** In order: `thread <file>` when a handle starts its thread, `sync <file> own|pool` for each async `.log` datasync. */
  events: string[] = [];

  constructor() {
    super(nativeIo);
  }

  override wrap(file: IoFile): IoFile {
    let threaded = false;
    const counter = this;
    const spied = new Proxy(file, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        if (key === 'useSyncThread') {
          return (...args: unknown[]) => {
            const started = method(...args) as boolean;
            if (started && !threaded) {
              threaded = true;
              counter.started++;
              counter.runningMax = Math.max(counter.runningMax, counter.started - counter.stopped);
              counter.events.push(`thread ${basename(target.path)}`);
            }
            return started;
          };
        }
        if (key === 'datasync' && (target.path.includes('.log') || basename(target.path) === PREPARED_SEGMENT_NAME)) {
          return () => {
            if (threaded) counter.threadSyncs++;
            else counter.poolSyncs++;
            counter.events.push(`sync ${basename(target.path)} ${threaded ? 'own' : 'pool'}`);
            return method();
          };
        }
        if (key === 'closeSync') {
          return () => {
            if (threaded) counter.stopped++;
            threaded = false;
            return method();
          };
        }
        return method;
      },
    });
    return super.wrap(spied);
  }
}

const records = (count: number, fill = 0): { value: Uint8Array }[] => Array.from({ length: count }, (_, index) => ({ value: new Uint8Array(100).fill(fill + index) }));

it('syncs the active segment on a thread of its own from the first async flush, and stops it once a sealed segment is whole on disk', async () => {
  const dir = tempDir();
  const io = new SyncThreadCounter();
  const log = await SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES });
  // A log that syncs only on the calling thread starts none.
  log.appendBatch(records(2));
  expect(log.syncSync()).toBe(2);
  expect(io.started).toBe(0);
  for (let batch = 0; batch < 12; batch++) {
    log.appendBatch(records(3, batch));
    expect(await log.sync()).toBe(2 + 3 * (batch + 1));
  }
  // One thread per segment a flush reached, never more than a few running at once around
  // rolls: the active segment's, the prepared file's, and those of the last sealed segments
  // (until their index frames are durable and their rename done). Twelve rolls here: a
  // thread left running per segment would pass this bound.
  expect(io.started).toBeGreaterThan(4);
  expect(io.runningMax).toBeLessThanOrEqual(5);
  expect(io.threadSyncs).toBeGreaterThan(io.poolSyncs);
  await log.close();
  expect(io.stopped).toBe(io.started);
  const reopened = await SegmentLog.open(dir);
  const read = reopened.read(0, { maxBytes: 1 << 20 });
  expect(read).toHaveLength(38);
  expect(read[37]?.value[0]).toBe(11 + 2);
  expect(reopened.recovery.actions.filter((action) => action.kind === 'rebuilt-index')).toEqual([]);
  await reopened.close();
});

it('reads a sealed segment whose write handle and thread were closed, through a handle opened again', async () => {
  const dir = tempDir();
  const io = new SyncThreadCounter();
  const log = await SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES });
  for (let batch = 0; batch < 6; batch++) {
    log.appendBatch(records(4, 10 * batch));
    await log.sync();
  }
  await log.offloaded();
  // Sealed segments let their threads go once their index frames were durable.
  expect(io.stopped).toBeGreaterThan(0);
  const first = log.read(0, { maxRecords: 4 });
  expect(first.map((record) => record.value[0])).toEqual([0, 1, 2, 3]);
  log.appendBatch(records(2, 100));
  expect(await log.sync()).toBe(26);
  await log.close();
});

it('starts the prepared file\'s thread ahead of the roll, so the flush that acknowledges the rolled batch starts none', async () => {
  const dir = tempDir();
  const io = new SyncThreadCounter();
  const log = await SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES });
  log.appendBatch(records(3));
  await log.sync();
  // A roll, then the background work after its flush: the rename, and the next prepared file.
  log.appendBatch(records(3, 10));
  await log.sync();
  await log.enforceRetention();
  expect(log.segments()).toHaveLength(2);
  expect(io.events).toContain(`thread ${PREPARED_SEGMENT_NAME}`);
  io.events = [];
  // Three more do not fit beside the three the active segment holds: this batch rolls.
  log.appendBatch(records(3, 20));
  expect(await log.sync()).toBe(9);
  expect(log.segments()).toHaveLength(3);
  const firstSync = io.events.indexOf(`sync ${PREPARED_SEGMENT_NAME} own`);
  expect(firstSync).toBeGreaterThanOrEqual(0);
  expect(io.events.slice(0, firstSync)).not.toContain(`thread ${PREPARED_SEGMENT_NAME}`);
  await log.close();
  expect(io.stopped).toBe(io.started);
});
