import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { COMPACTION_SYNC_EVERY_BYTES } from '../src/limits.js';
import { FaultyIo } from './faulty-io.js';
import { temporaryDir } from './helpers.js';

const VALUE = 'v'.repeat(1000);
/** Live values worth three write-behind syncs of the new log. */
const KEYS = Math.ceil((3 * COMPACTION_SYNC_EVERY_BYTES) / VALUE.length);
const BATCH_KEYS = 1000;

/** Only datasyncs of a compaction's new log count (and fail). */
const newLogSyncs = (): FaultyIo => new FaultyIo(Infinity, (operation, path) => operation === 'datasync' && path.endsWith('.log.tmp'));

async function filled(dir: string, io: FaultyIo): Promise<WalKv<string>> {
  const kv = await WalKv.open<string>(dir, { io, valueEncoding: 'utf8', checkpointEveryBytes: Infinity, compactWhenGarbageRatio: 1 });
  for (let first = 0; first < KEYS; first += BATCH_KEYS) {
    kv.putBatch(Array.from({ length: Math.min(BATCH_KEYS, KEYS - first) }, (_, i) => [`key-${first + i}`, VALUE] as [string, string]));
  }
  kv.delete('key-0');
  await kv.sync();
  return kv;
}

describe('compaction writes the new log behind itself', () => {
  it('syncs the new log as it fills it, not only once at the end', async () => {
    const io = newLogSyncs();
    const kv = await filled(temporaryDir(), io);
    await kv.compact();
    // One sync per COMPACTION_SYNC_EVERY_BYTES copied, and the one before the new log is installed.
    expect(io.mutations).toBeGreaterThanOrEqual(3);
    expect(kv.get('key-1')).toBe(VALUE);
    expect(kv.get(`key-${KEYS - 1}`)).toBe(VALUE);
    await kv.close();
  });

  it('gives up when a sync of the new log fails: the store is poisoned, and reopens as it was', async () => {
    const dir = temporaryDir();
    const io = newLogSyncs();
    const kv = await filled(dir, io);
    io.mutations = 0;
    io.failAt = 1;
    // As for any failed write or sync of the store: nothing may be called durable after it.
    await expect(kv.compact()).rejects.toMatchObject({ code: 'KEEL_POISONED', cause: { code: 'KEEL_IO', errno: 'EIO', syscall: 'datasync' } });
    await kv.close().catch(() => undefined);
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(reopened.size).toBe(KEYS - 1);
    expect(reopened.get('key-0')).toBeUndefined();
    expect(reopened.get(`key-${KEYS - 1}`)).toBe(VALUE);
    reopened.put('after', 'yes');
    await reopened.close();
  });
});
