import { fileURLToPath } from 'node:url';
import { ROLLING_SEGMENT_BYTES, type FlushThreadTarget } from '@keel/conformance';
import { SegmentLog } from '../../src/index.js';

/** The segment log as the flush-thread tests drive it; a record's timestamp is its append count. */
export function flushThreadTarget(tempDir: () => string): FlushThreadTarget<SegmentLog> {
  let timestamp = 0;
  return {
    name: 'segment-log',
    // 10,000 records of 138 frame bytes fill a 64 KiB segment about twenty times, plus the rolls asked for.
    rollsMin: 20,
    child: fileURLToPath(new URL('./roll-child.ts', import.meta.url)),
    tempDir,
    open: (dir, durability, io) => SegmentLog.open(dir, { segmentBytes: ROLLING_SEGMENT_BYTES, durability, ...(io === undefined ? {} : { io }) }),
    subject: (log) => ({
      append: (value) => void log.append({ value, timestamp: timestamp++ }),
      appendBatch: (values) => void log.appendBatch(values.map((value) => ({ value, timestamp: timestamp++ }))),
      roll: () => void log.roll(),
      sync: () => log.sync(),
    }),
    rolls: (log) => log.segments().length - 1,
    close: (log) => log.close(),
    async countAfterReopen(dir) {
      await using log = await SegmentLog.open(dir, { segmentBytes: ROLLING_SEGMENT_BYTES });
      return log.nextOffset - log.startOffset;
    },
  };
}
