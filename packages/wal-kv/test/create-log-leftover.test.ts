import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, temporaryDir, text } from './helpers.js';

describe('creating the first log generation', () => {
  it('replaces a partial wal-1.log.tmp a crash left (the new one is created exclusively, never written through it)', async () => {
    const dir = temporaryDir();
    const first = await WalKv.open(dir, { durability: { mode: 'every-write' } });
    await first.close();
    // The state a crash inside the first open leaves: identity durable, the log's
    // temporary holding part of its header, never renamed.
    const header = readFileSync(join(dir, 'wal-1.log'));
    rmSync(join(dir, 'wal-1.log'));
    writeFileSync(join(dir, 'wal-1.log.tmp'), header.subarray(0, 5));
    const kv = await WalKv.open(dir, { durability: { mode: 'every-write' } });
    try {
      expect(kv.recovery.actions.map((action) => action.kind)).toEqual(expect.arrayContaining(['removed-temporary', 'created']));
      expect(readdirSync(dir)).not.toContain('wal-1.log.tmp');
      await kv.put(bytes('k'), bytes('v'));
      expect(text(kv.get(bytes('k')))).toBe('v');
    } finally {
      await kv.close();
    }
  });
});
