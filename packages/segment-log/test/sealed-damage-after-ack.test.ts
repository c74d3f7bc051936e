// A batch that rolls is acknowledged before the sealed segment's index frames (and the
// rename out of the prepared name) are durable. A power cut in that window, then media
// damage in the sealed segment's durable record bytes: open must refuse the damage, not
// take it for a torn tail and cut the acknowledged records of the next segment with it.
// A tail the crash tore before anything after it was acknowledged still recovers.
import { FaultFs } from '@keel/conformance';
import { FRAME_TRAILER_BYTES, InterceptedIo, isKeelError, type IoMutation } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, segmentPaths } from '../src/format.js';
import { expectReopened, preparedLogOn, record } from './support/id-records.js';
import { ID_RECORD_BYTES, idFrameBytes, idRecordAt } from './support/id-frames.js';

const DIR = '/store';
/**
 * Segment 0 holds two frames: the three synced records, then one more. An append of one
 * record after them fills it; the next append rolls (a batch that does not fit the rest
 * of a segment rolls before it writes anything).
 */
const SEGMENT_BYTES = HEADER_BYTES + idFrameBytes(3) + idFrameBytes(1);
const SEGMENT_0 = segmentPaths(DIR, 0).log;
const INDEX_FILE = /\.(index|timeindex)$/;

/** Holds back, from `hold()` on, every directory sync and every datasync of an index file: the work a roll leaves for after the acknowledgement. */
class HeldAfterAckWork extends InterceptedIo {
  #held = false;

  hold(): void {
    this.#held = true;
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    const afterAck = operation === 'sync-dir' || (operation === 'datasync' && INDEX_FILE.test(path));
    if (this.#held && afterAck) return new Promise<never>(() => undefined);
    return run();
  }
}

function open(io: FaultFs | InterceptedIo): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 64, now: () => 1_700_000_000_000 });
}

/**
 * 3 records synced, the prepared file made, then with all after-ack work held back one
 * record that fills segment 0 and, in the same turn, a batch of 3 that rolls into the
 * prepared file. With `acknowledge`, their sync resolves (7 acknowledged); without, the
 * power is cut before any sync was asked for (3 acknowledged). Returns the disk as it is then.
 */
async function rollingBatch(acknowledge: boolean): Promise<{ fs: FaultFs; acknowledged: number }> {
  const { fs, io, log } = await threeSynced();
  io.hold();
  log.append(record(3));
  log.appendBatch([4, 5, 6].map(record));
  return rolled(log, fs, acknowledge);
}

/**
 * As `rollingBatch(true)`, but segment 0 is full and durable before the batch that rolls:
 * the flush acknowledging it then has one log to sync (the new segment) and the sealed
 * segment's checkpoint to write, and must not take the common flush's shortcut past it.
 */
async function batchRollingPastDurableSegment(): Promise<{ fs: FaultFs; acknowledged: number }> {
  const { fs, io, log } = await threeSynced();
  log.append(record(3));
  expect(await log.sync()).toBe(4);
  io.hold();
  log.appendBatch([4, 5, 6].map(record));
  return rolled(log, fs, true);
}

/** A log on a fresh disk with 3 records synced and the prepared file made, its after-ack work not yet held. */
function threeSynced(): Promise<{ fs: FaultFs; io: HeldAfterAckWork; log: SegmentLog }> {
  return preparedLogOn(DIR, (fs) => new HeldAfterAckWork(fs), open);
}

/** The batch just appended rolled into segment 4; with `acknowledge` its sync resolves. Returns the disk as it is then. */
async function rolled(log: SegmentLog, fs: FaultFs, acknowledge: boolean): Promise<{ fs: FaultFs; acknowledged: number }> {
  expect(log.segments().map((segment) => segment.baseOffset)).toEqual([0, 4]);
  if (!acknowledge) return { fs: fs.clone(), acknowledged: 3 };
  expect(await log.sync()).toBe(7);
  return { fs: fs.clone(), acknowledged: 7 };
}

/** Flips one bit of `path` at `offset` on the crashed disk and makes it durable: media damage. */
function flipBit(fs: FaultFs, path: string, offset: number): void {
  const file = fs.open(path, { write: true });
  try {
    const byte = new Uint8Array(1);
    file.readSync(byte, offset);
    byte[0] = (byte[0] as number) ^ 0x10;
    file.writeSync(byte, offset);
    file.datasyncSync();
  } finally {
    file.closeSync();
  }
}

async function expectRefusedUntouched(fs: FaultFs, damagedOffset: number): Promise<void> {
  const before = fs.files();
  const refused = await open(fs).then(
    async (log) => {
      await log.close();
      return null;
    },
    (error: unknown) => error,
  );
  expect(isKeelError(refused, 'KEEL_CORRUPT')).toBe(true);
  expect((refused as { path?: string }).path).toBe(SEGMENT_0);
  expect((refused as { offset?: number }).offset).toBeLessThanOrEqual(damagedOffset);
  // Nothing on disk changed: no file cut, set aside, renamed or removed.
  expect(fs.files()).toEqual(before);
}

/** Where record `n` of segment 0 starts on `fs`: record 1 is inside the frame of the three synced first, record 3 is the last frame's one. */
const recordAt = (fs: FaultFs, n: number): number => idRecordAt(fs.files().get(SEGMENT_0) as Uint8Array, n);

describe('a power cut after a rolling batch was acknowledged, before the roll’s after-ack work was durable', () => {
  it('then a bit flip in a record of the sealed segment synced before the roll: open refuses it and changes nothing', async () => {
    const { fs } = await rollingBatch(true);
    const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
    // A byte of record 1's value: the frame of records 0 to 2 no longer checks.
    const damaged = recordAt(crashed, 1) + 5;
    flipBit(crashed, SEGMENT_0, damaged);
    await expectRefusedUntouched(crashed, damaged);
  });

  it('then a bit flip in the sealed segment’s last record, written in the turn of the append that rolled: open refuses it and changes nothing', async () => {
    const { fs } = await rollingBatch(true);
    const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
    // Record 3 is the last frame's only record: it ends where that frame's CRC, the segment's last bytes, starts.
    expect(recordAt(crashed, 3) + ID_RECORD_BYTES).toBe(SEGMENT_BYTES - FRAME_TRAILER_BYTES);
    const damaged = recordAt(crashed, 3) + 8;
    flipBit(crashed, SEGMENT_0, damaged);
    await expectRefusedUntouched(crashed, damaged);
  });

  it('and no damage: every acknowledged record is there', async () => {
    const { fs, acknowledged } = await rollingBatch(true);
    for (const entries of ['lose-all', 'keep-all'] as const) {
      await expectReopened(await open(fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries }).fs), acknowledged);
    }
  });
});

describe('a power cut after a batch that rolled past a segment already durable was acknowledged, before the roll’s after-ack work was durable', () => {
  it('then a bit flip in any record of the sealed segment: open refuses it and changes nothing', async () => {
    for (const [record, byte] of [[1, 5], [3, 8]] as const) {
      const { fs } = await batchRollingPastDurableSegment();
      const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
      const damaged = recordAt(crashed, record) + byte;
      flipBit(crashed, SEGMENT_0, damaged);
      await expectRefusedUntouched(crashed, damaged);
    }
  });

  it('and no damage: every acknowledged record is there', async () => {
    const { fs, acknowledged } = await batchRollingPastDurableSegment();
    expect(acknowledged).toBe(7);
    for (const entries of ['lose-all', 'keep-all'] as const) {
      await expectReopened(await open(fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries }).fs), acknowledged);
    }
  });
});

describe('a power cut before a rolling batch was acknowledged', () => {
  it('that tore the sealed segment’s unsynced last record, with the next segment’s records kept, recovers to the acknowledged records as before', async () => {
    const { fs, acknowledged } = await rollingBatch(false);
    // Everything unsynced kept, then the last record of segment 0 torn: what a kernel that wrote the later file back first leaves.
    const crashed = fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs;
    const tornAt = recordAt(crashed, 3) + 6;
    const file = crashed.open(SEGMENT_0, { write: true });
    try {
      file.setLengthSync(tornAt);
      file.datasyncSync();
    } finally {
      file.closeSync();
    }
    const log = await open(crashed);
    expect(log.nextOffset).toBe(acknowledged);
    await expectReopened(log, acknowledged);
  });
});
