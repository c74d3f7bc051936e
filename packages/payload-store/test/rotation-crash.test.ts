import { ROLL_CRASH_PAYLOAD_BYTES, runRollCrashPoints } from '@keel/conformance';
import { FRAME_OVERHEAD_BYTES } from '@keel/core';
import { expect, it } from 'vitest';
import { PayloadStore } from '../src/index.js';
import { plain } from './helpers.js';

/** Header (20) plus four frames of 12 + 32 bytes: four payloads per segment. */
const SEGMENT_BYTES = 20 + 4 * (FRAME_OVERHEAD_BYTES + ROLL_CRASH_PAYLOAD_BYTES);

it('rotations and the flushes that make them durable, crashed before every disk operation, and the recovery that sets unsynced rotations aside, crashed at every step, lose nothing acknowledged and leave no hole', async () => {
  const summary = await runRollCrashPoints<PayloadStore>({
    open: (io, dir) => PayloadStore.open(dir, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, verify: 'full' }),
    append: (store, payloads) => void store.appendBatch(payloads),
    roll: (store) => void store.seal(),
    sync: (store) => store.sync(),
    read: (store) => [...store.scan()].map((scanned) => plain(scanned.payload)),
    close: (store) => store.close(),
  });
  expect(summary.workloadStates).toBeGreaterThan(500);
  expect(summary.recoveryMutations).toBeGreaterThan(8);
});
