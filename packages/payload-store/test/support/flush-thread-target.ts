import { fileURLToPath } from 'node:url';
import { ROLLING_SEGMENT_BYTES, type FlushThreadTarget } from '@keel/conformance';
import { PayloadStore } from '../../src/index.js';

/** The payload store as the flush-thread tests drive it: a roll is a seal(). */
export function flushThreadTarget(tempDir: () => string): FlushThreadTarget<PayloadStore> {
  return {
    name: 'payload-store',
    // The workload's ten explicit seals always rotate; rotations by size (10,000 payloads of
    // 112 frame bytes fill a 64 KiB segment about seventeen times) wait while a sync of the
    // segment is in flight, so how many more happen depends on timing.
    rollsMin: 10,
    child: fileURLToPath(new URL('./roll-child.ts', import.meta.url)),
    tempDir,
    open: (dir, durability, io) => PayloadStore.open(dir, { segmentBytes: ROLLING_SEGMENT_BYTES, durability, ...(io === undefined ? {} : { io }) }),
    subject: (store) => ({
      append: (payload) => void store.append(payload),
      appendBatch: (payloads) => void store.appendBatch(payloads),
      roll: () => void store.seal(),
      sync: () => store.sync(),
    }),
    rolls: (store) => store.segments().length - 1,
    close: (store) => store.close(),
    async countAfterReopen(dir) {
      await using store = await PayloadStore.open(dir, { segmentBytes: ROLLING_SEGMENT_BYTES });
      return [...store.scan()].length;
    },
  };
}
