import { ROLL_CRASH_PAYLOAD_BYTES, runRollCrashPoints } from '@keel/conformance';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { BATCH_OVERHEAD_BYTES, HEADER_BYTES } from '../src/format.js';

/**
 * The header plus one batch frame of four records (the frame's 32 bytes, and per record a
 * byte each for timestamp delta, key field, value length and header count): four records
 * of one append per segment, fewer from several.
 */
const SEGMENT_BYTES = HEADER_BYTES + BATCH_OVERHEAD_BYTES + 4 * (4 + ROLL_CRASH_PAYLOAD_BYTES);

it('rolls and the flushes that make them durable, crashed before every disk operation, and the recovery that cuts the log where it really ends, crashed at every step, lose nothing acknowledged and leave no hole', async () => {
  const summary = await runRollCrashPoints<SegmentLog>({
    open: (io, dir) => SegmentLog.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 }),
    append: (log, values) => void log.appendBatch(values.map((value) => ({ value }))),
    roll: (log) => void log.roll(),
    sync: (log) => log.sync(),
    read: (log) => log.read(log.startOffset, { maxBytes: 1 << 20 }).map((record) => record.value),
    check: (log) => log.verify(),
    close: (log) => log.close(),
  });
  expect(summary.workloadStates).toBeGreaterThan(500);
  expect(summary.recoveryMutations).toBeGreaterThan(8);
});
