import { ROLL_CRASH_PAYLOAD_BYTES, runRollCrashPoints } from '@keel/conformance';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES } from '../src/format.js';

/** The header plus four records of 12 + 26 + 32 bytes: four records per segment. */
const SEGMENT_BYTES = HEADER_BYTES + 4 * (12 + 26 + ROLL_CRASH_PAYLOAD_BYTES);

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
