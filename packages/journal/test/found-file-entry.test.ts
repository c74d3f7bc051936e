import { createDirectoryDurably } from '@keel/core';
import { FaultFs, makePayload, payloadId } from '@keel/conformance';
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';

const PATH = '/store/journal.wal';

describe('a journal file found on open', () => {
  // Found by conformance's I/O-error-at-every-operation family: the first open created
  // the file and its directory sync failed; the next open found the file, and records
  // acknowledged in it were lost with its directory entry at the next power cut.
  it('has its directory entry made durable before anything in it is acknowledged', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/store');
    // The first open syncs '/' (its directory's parent), creates the file, then syncs '/store'.
    fs.inject({ operation: 'sync', nth: 2, errno: 'EIO' });
    await expect(Journal.open(PATH, { io: fs, durability: { mode: 'explicit' } })).rejects.toMatchObject({ code: 'KEEL_IO' });
    fs.inject(null);
    const journal = await Journal.open(PATH, { io: fs, durability: { mode: 'explicit' } });
    journal.append(makePayload(1, 16));
    await journal.sync();
    await journal.close();
    const crashed = fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
    const recovered = await Journal.open(PATH, { io: crashed, durability: { mode: 'explicit' } });
    try {
      expect([...recovered.records()].map((record) => payloadId(record.payload))).toEqual([1]);
    } finally {
      await recovered.close();
    }
  });
});
