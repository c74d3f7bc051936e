import { readFileSync, writeFileSync } from 'node:fs';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, KeyTable } from '@keel/core';
import { describe, expect, it, vi } from 'vitest';
import { WalKv } from '../src/index.js';
import { LOG_HEADER_FRAME_BYTES, RECORD_HEADER_BYTES, sealRecordFrame } from '../src/format.js';
import { expectCode, logPath, temporaryDir } from './helpers.js';

/** A store of one record (two puts, one of them overwritten by a second record), synced. */
async function storeOfTwoRecords(dir: string): Promise<WalKv<string>> {
  const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
  kv.putBatch([
    ['a', 'first'],
    ['b', 'second'],
  ]);
  kv.put('b', 'third');
  await kv.sync();
  return kv;
}

describe('a compaction whose copy of the live puts fails', () => {
  it('reports a record whose frame checks out but whose contents are impossible as KEEL_CORRUPT, and the store goes on', async () => {
    const dir = temporaryDir();
    const kv = await storeOfTwoRecords(dir);
    // The first record's first operation gets an unknown type, its frame CRC made good again.
    const path = logPath(dir);
    const log = readFileSync(path);
    const payloadBytes = RECORD_HEADER_BYTES + 2 * (15 + 1 + 4) + 'first'.length + 'second'.length;
    const frame = log.subarray(LOG_HEADER_FRAME_BYTES, LOG_HEADER_FRAME_BYTES + payloadBytes + FRAME_OVERHEAD_BYTES);
    frame[FRAME_HEADER_BYTES + RECORD_HEADER_BYTES] = 9;
    sealRecordFrame(frame, 0, payloadBytes);
    writeFileSync(path, log);

    await expectCode(() => kv.compact(), 'KEEL_CORRUPT');
    expect(kv.stats().generation).toBe(1);
    // Not poisoned: the store still writes and syncs.
    kv.put('c', 'after');
    await kv.sync();
    expect(kv.get('c')).toBe('after');
    await kv.close();
  });

  it('reports a failure that is not damage on disk (here a bad argument) as what it is, not as KEEL_CORRUPT', async () => {
    const dir = temporaryDir();
    const kv = await storeOfTwoRecords(dir);
    const copyLivePuts = KeyTable.prototype.copyLivePuts;
    // A caller's bug: a target with no room for the copied puts.
    let calls = 0;
    const spy = vi.spyOn(KeyTable.prototype, 'copyLivePuts').mockImplementation(function (this: KeyTable, payload, payloadOffset, first, putsMax, target, ...rest) {
      calls++;
      return copyLivePuts.call(this, payload, payloadOffset, first, putsMax, target.subarray(0, 0), ...rest);
    });
    let caught: { code?: string } | null = null;
    try {
      await kv.compact();
    } catch (error) {
      caught = error as { code?: string };
    } finally {
      spy.mockRestore();
    }
    expect(calls).toBeGreaterThan(0);
    expect(caught?.code).toBe('InvalidArg');
    // Not damage, so not shrugged off: a store whose compaction failed for an unknown
    // reason takes no more writes.
    await expectCode(() => kv.put('c', 'after'), 'KEEL_POISONED');
    await kv.close().catch(() => undefined);

    // Nothing on disk changed.
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.stats().generation).toBe(1);
    expect([...reopened.entries()]).toEqual([
      ['a', 'first'],
      ['b', 'third'],
    ]);
    await reopened.close();
  });
});
