import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { bytes, logPath, temporaryDir, text } from './helpers.js';

describe('a batch is all or nothing after a crash', () => {
  it('shows none of a batch whose record is cut anywhere inside', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open(dir);
    kv.put('x', bytes('before'));
    const before = kv.stats().logBytes;
    kv.batch([
      { type: 'put', key: 'a', value: bytes('1') },
      { type: 'del', key: 'x' },
      { type: 'put', key: 'b', value: bytes('2'.repeat(300)) },
    ]);
    const afterBatch = kv.stats().logBytes;
    await kv.close();
    const full = readFileSync(logPath(dir));
    expect(full.length).toBe(afterBatch);
    const cuts = [before + 1, before + 7, before + 8, before + 40, Math.floor((before + afterBatch) / 2), afterBatch - 1];
    for (const cut of cuts) {
      writeFileSync(logPath(dir), full.subarray(0, cut));
      const reopened = await WalKv.open(dir);
      expect(reopened.recovery.tailState).not.toBe('clean-end');
      expect(reopened.recovery.discardedBytes).toBe(cut - before);
      expect(existsSync(reopened.recovery.savedTailPath!)).toBe(true);
      expect(text(reopened.get('x'))).toBe('before');
      expect(reopened.has('a') || reopened.has('b')).toBe(false);
      await reopened.close();
    }
    writeFileSync(logPath(dir), full);
    const whole = await WalKv.open(dir);
    expect(whole.recovery.tailState).toBe('clean-end');
    expect(whole.has('x')).toBe(false);
    expect([...whole.keys()]).toEqual(['a', 'b']);
    await whole.close();
  });
});
