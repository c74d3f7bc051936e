import { InterceptedIo, type IoMutation } from '@keel/core';
import { FaultFs, makePayload, payloadId } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { SegmentLog } from '../src/index.js';
import { CLEAN_SHUTDOWN_FILE_NAME, CLEAN_SHUTDOWN_FORMAT, CLEAN_SHUTDOWN_TEMPORARY_NAME, CLEAN_SHUTDOWN_VERSION } from '../src/format.js';
import { encodeOffsetRecord } from '../src/offset-record.js';

const DIR = '/store';
const MARKER = `${DIR}/clean-shutdown`;
const SEGMENTS = 6;

/** The active segment after SEGMENTS appends, each followed by a roll. */
const ACTIVE_LOG = `${DIR}/${String(SEGMENTS).padStart(20, '0')}.log`;

/** Counts the data syncs of sealed segments' files (logs and index files). */
class CountingIo extends InterceptedIo {
  syncs = 0;

  protected override aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'datasync' && path !== ACTIVE_LOG && /\.(log|index|timeindex)$/.test(path)) this.syncs++;
    return run();
  }
}

function open(io: FaultFs | InterceptedIo): Promise<SegmentLog> {
  return SegmentLog.open(DIR, { io, durability: { mode: 'explicit' }, segmentBytes: 256, now: () => 1_700_000_000_000 });
}

async function writeSealedLog(fs: FaultFs): Promise<void> {
  const log = await open(fs);
  for (let id = 1; id <= SEGMENTS; id++) {
    log.append({ value: makePayload(id, 200) });
    log.roll();
  }
  await log.sync();
  await log.close();
}

describe('the clean-shutdown record', () => {
  it('is written by close and removed by the next open, which then syncs no sealed segment', async () => {
    const fs = new FaultFs();
    await writeSealedLog(fs);
    expect(fs.stat(MARKER)?.size).toBe(40);
    const io = new CountingIo(fs);
    const log = await open(io);
    expect(fs.stat(MARKER)).toBeNull();
    expect(io.syncs).toBe(0);
    expect(log.read(0, { maxBytes: 1 << 20 }).map((record) => payloadId(record.value))).toEqual([1, 2, 3, 4, 5, 6]);
    await log.close();
  });

  it('is absent after a crash, and open then makes every sealed segment durable before it claims anything', async () => {
    const fs = new FaultFs();
    const log = await open(fs);
    for (let id = 1; id <= SEGMENTS; id++) {
      log.append({ value: makePayload(id, 200) });
      log.roll();
    }
    await log.sync();
    // A process crash: nothing closed, the page cache kept.
    const crashed = fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs;
    expect(crashed.stat(MARKER)).toBeNull();
    const io = new CountingIo(crashed);
    const reopened = await open(io);
    // Three files (log and two indexes) for each sealed segment.
    expect(io.syncs).toBeGreaterThanOrEqual(3 * SEGMENTS);
    await reopened.close();
  });

  it('naming another end than the log holds is not trusted: open syncs the sealed segments and removes it', async () => {
    const fs = new FaultFs();
    await writeSealedLog(fs);
    const bytes = new Uint8Array(40);
    const file = fs.open(MARKER);
    file.readSync(bytes, 0);
    file.closeSync();
    const kind = { what: 'clean-shutdown record', fileName: CLEAN_SHUTDOWN_FILE_NAME, temporaryName: CLEAN_SHUTDOWN_TEMPORARY_NAME, format: CLEAN_SHUTDOWN_FORMAT, version: CLEAN_SHUTDOWN_VERSION };
    // This log's own record, naming an end it does not have (a lost removal on a lying disk).
    const rewritten = encodeOffsetRecord(kind, 3, bytes.slice(20, 36));
    const out = fs.open(MARKER, { write: true, truncate: true });
    out.writeSync(rewritten, 0);
    out.closeSync();
    const io = new CountingIo(fs);
    const log = await open(io);
    expect(io.syncs).toBeGreaterThanOrEqual(3 * SEGMENTS);
    expect(fs.stat(MARKER)).toBeNull();
    await log.close();
  });

  it('from another log is refused with KEEL_CORRUPT, and nothing changes', async () => {
    const ours = new FaultFs();
    await writeSealedLog(ours);
    const other = new FaultFs();
    await writeSealedLog(other);
    const foreign = new Uint8Array(40);
    const file = other.open(MARKER);
    file.readSync(foreign, 0);
    file.closeSync();
    const out = ours.open(MARKER, { write: true, truncate: true });
    out.writeSync(foreign, 0);
    out.closeSync();
    await expect(open(ours)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
    expect(ours.stat(MARKER)?.size).toBe(40);
  });
});
