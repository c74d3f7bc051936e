import type { SegmentLog } from '../../src/index.js';
import { timestampFor, valueFor } from './record-for.js';

/** Appends `batches` batches of `perBatch` records whose contents follow from their offsets, syncing after each. */
export async function appendSynced(log: SegmentLog, batches: number, perBatch: number): Promise<void> {
  for (let batch = 0; batch < batches; batch++) {
    const next = log.nextOffset;
    log.appendBatch(Array.from({ length: perBatch }, (_, index) => ({ value: valueFor(next + index), timestamp: timestampFor(next + index) })));
    await log.sync();
  }
}
