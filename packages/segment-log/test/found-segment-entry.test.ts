import { InterceptedIo, ioError, type IoMutation } from '@keel/core';
import { FaultFs, makePayload, payloadId } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';

const DIR = '/store';

/** Fails every directory sync while `failing` is set. */
class FailingDirectorySync extends InterceptedIo {
  failing = false;

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (this.failing && operation === 'sync-dir') throw ioError('EIO', 'fsync', path);
    return run();
  }

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (this.failing && operation === 'sync-dir') return Promise.reject(ioError('EIO', 'fsync', path));
    return run();
  }
}

function open(io: FaultFs | InterceptedIo): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, now: () => 1_700_000_000_000 });
}

describe('a segment found on open', () => {
  // Found by conformance's I/O-error-at-every-operation family (a failed directory sync
  // of a roll, a reopen, a power cut): open appended to, and acknowledged records in, a
  // segment whose directory entry was never durable.
  it('has its directory entry made durable before anything appended to it is acknowledged', async () => {
    const fs = new FaultFs();
    const io = new FailingDirectorySync(fs);
    const log = await open(io);
    log.append({ value: makePayload(1, 16) });
    log.syncSync();
    io.failing = true;
    // The roll creates the next segment; its directory entry is made durable by the flush
    // that covers a record in it, and that flush fails.
    log.roll();
    log.append({ value: makePayload(2, 16) });
    await expect(log.sync()).rejects.toMatchObject({ code: 'KEEL_IO' });
    await log.close().catch(() => undefined);
    io.failing = false;
    // A restart without a power cut: the new segment is there, in the page cache only.
    const reopened = await open(io);
    reopened.append({ value: makePayload(3, 16) });
    reopened.syncSync();
    await reopened.close();
    const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
    const recovered = await open(crashed);
    try {
      expect(recovered.read(recovered.startOffset, { maxBytes: 1 << 20 }).map((record) => payloadId(record.value))).toEqual([1, 2, 3]);
    } finally {
      await recovered.close();
    }
  });
});
