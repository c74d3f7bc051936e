import { InterceptedIo, nativeIo, type IoFile } from '@keel/core';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES } from '../src/format.js';
import { codeOf, tempDir } from './helpers.js';

/** Records of 100 bytes (12 + 26 + 100 framed): four fit a segment. */
const SEGMENT_BYTES = HEADER_BYTES + 4 * 138;

/** nativeIo whose `.log` handles report which started a sync thread, and which of those are closed. */
class SyncThreadCounter extends InterceptedIo {
  started = 0;
  stopped = 0;
  /** The most `.log` handles with a running thread at once. */
  runningMax = 0;

  constructor() {
    super(nativeIo);
  }

  override wrap(file: IoFile): IoFile {
    let threaded = false;
    const spied = new Proxy(file, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        if (key === 'useSyncThread') {
          return (...args: unknown[]) => {
            const started = method(...args) as boolean;
            if (started && !threaded) {
              threaded = true;
              this.started++;
              this.runningMax = Math.max(this.runningMax, this.started - this.stopped);
            }
            return started;
          };
        }
        if (key === 'closeSync') {
          return () => {
            if (threaded) this.stopped++;
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

const records = (count: number): { value: Uint8Array }[] => Array.from({ length: count }, (_, index) => ({ value: new Uint8Array(100).fill(index) }));

it('runs each active segment’s syncs on a thread of its own and stops it once the segment is sealed and whole on disk', async () => {
  const dir = tempDir();
  const io = new SyncThreadCounter();
  const log = await SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES });
  for (let batch = 0; batch < 12; batch++) {
    log.appendBatch(records(3));
    expect(await log.sync()).toBe(3 * (batch + 1));
  }
  // One thread per segment a flush reached, never more than two running at once (around a roll).
  expect(io.started).toBeGreaterThan(4);
  expect(io.runningMax).toBeLessThanOrEqual(3);
  await log.close();
  expect(io.stopped).toBe(io.started);
  const reopened = await SegmentLog.open(dir);
  expect(reopened.read(0, { maxBytes: 1 << 20 })).toHaveLength(36);
  expect(reopened.recovery.actions.filter((action) => action.kind === 'rebuilt-index')).toEqual([]);
  await reopened.close();
});

it('with syncThread: false syncs on the threadpool, and refuses a syncThread that is not a boolean', async () => {
  const dir = tempDir();
  const io = new SyncThreadCounter();
  const log = await SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, syncThread: false });
  log.appendBatch(records(10));
  expect(await log.sync()).toBe(10);
  expect(io.started).toBe(0);
  await log.close();
  expect(await codeOf(() => SegmentLog.open(tempDir(), { syncThread: 'yes' as unknown as boolean }))).toBe('KEEL_BAD_ARGUMENT');
});
