// A segment header's flags field: this build writes one flag (HEADER_FLAG_SEALED_DURABLE)
// and refuses a header with any other bit set, as it refuses another format version.
import { FaultFs } from '@keel/conformance';
import { encodeFrame, isKeelError, parentDir } from '@keel/core';
import { expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { HEADER_BYTES, HEADER_FORMAT, segmentPaths } from '../src/format.js';

const DIR = '/store';

/** Rewrites segment 0's header with `flags`, its CRC made to match: a header that checks, as another build could write it. */
function rewriteHeaderFlags(fs: FaultFs, flags: number): void {
  const path = segmentPaths(DIR, 0).log;
  const payload = (fs.files().get(path) as Uint8Array).slice(8, HEADER_BYTES - 4);
  new DataView(payload.buffer).setUint16(2, flags, true);
  const file = fs.open(path, { write: true });
  try {
    file.writeSync(encodeFrame(payload, HEADER_FORMAT), 0);
    file.datasyncSync();
  } finally {
    file.closeSync();
  }
}

it('a segment header with a flag this build does not know is refused, and nothing is changed', async () => {
  for (const clean of [true, false]) {
    const fs = new FaultFs();
    fs.mkdir(DIR);
    fs.syncDirSync(parentDir(DIR));
    const log = await SegmentLog.open(DIR, { io: fs, durability: { mode: 'explicit' } });
    log.appendBatch([{ value: new Uint8Array(8) }]);
    await log.sync();
    if (clean) await log.close();
    const disk = clean ? fs : fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs;
    rewriteHeaderFlags(disk, 0x2);
    const before = disk.files();
    const refused = await SegmentLog.open(DIR, { io: disk }).then(
      async (reopened) => {
        await reopened.close();
        return null;
      },
      (error: unknown) => error,
    );
    expect(isKeelError(refused, 'KEEL_CORRUPT')).toBe(true);
    expect((refused as Error).message).toMatch(/flags 0x2/);
    expect(disk.files()).toEqual(before);
    if (!clean) await log.close();
  }
});
