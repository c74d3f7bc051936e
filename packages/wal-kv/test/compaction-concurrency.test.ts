import { describe, expect, it } from 'vitest';
import { WalKv } from '../src/index.js';
import { FaultyIo } from './faulty-io.js';
import { temporaryDir } from './helpers.js';

/** An Io whose next directory sync waits until the test opens the gate. */
class GatedIo extends FaultyIo {
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;
  #reached: (() => void) | null = null;
  reached: Promise<void> = Promise.resolve();

  arm(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
    this.reached = new Promise((resolve) => (this.#reached = resolve));
  }

  release(): void {
    this.#open?.();
  }

  override async syncDir(dir: string): Promise<void> {
    const gate = this.#gate;
    if (gate !== null) {
      this.#gate = null;
      this.#reached?.();
      await gate;
    }
    await super.syncDir(dir);
  }
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('writes, reads and syncs while a compaction switches logs', () => {
  it('keep working, and a sync waits until the new log is in place', async () => {
    const dir = temporaryDir();
    const io = new GatedIo();
    const kv = await WalKv.open<string>(dir, { io, valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
    for (let i = 0; i < 200; i++) kv.put(`key-${i}`, `value-${i}`);
    for (let i = 0; i < 200; i += 2) kv.delete(`key-${i}`);
    await kv.sync();

    io.arm();
    const compaction = kv.compact();
    await io.reached; // the new log is written and renamed; its directory sync is held
    expect(kv.stats().generation).toBe(2);
    const seq = kv.put('during', 'the switch');
    kv.delete('key-1');
    expect(kv.get('during')).toBe('the switch');
    expect(kv.get('key-3')).toBe('value-3');
    expect(kv.has('key-1')).toBe(false);
    let synced: number | null = null;
    const sync = kv.sync().then((durable) => (synced = durable));
    await turns(5);
    expect(synced).toBeNull();
    io.release();
    await compaction;
    await sync;
    expect(synced).toBeGreaterThanOrEqual(seq + 1);
    await kv.close();

    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(reopened.stats().generation).toBe(2);
    expect(reopened.get('during')).toBe('the switch');
    expect(reopened.has('key-1')).toBe(false);
    expect(reopened.has('key-0')).toBe(false);
    expect(reopened.size).toBe(100);
    await reopened.close();
  });

  it('completes while writers keep syncing without a pause', async () => {
    const dir = temporaryDir();
    const kv = await WalKv.open<string>(dir, { valueEncoding: 'utf8', checkpointEveryBytes: Infinity });
    let stop = false;
    const writers = Array.from({ length: 3 }, async (_, writer) => {
      for (let i = 0; !stop; i++) {
        kv.put(`${writer}:${i % 10}`, `${i}`);
        await kv.sync();
      }
    });
    await kv.compact();
    await kv.compact();
    await kv.checkpoint();
    stop = true;
    await Promise.all(writers);
    expect(kv.stats().generation).toBe(3);
    const state = Object.fromEntries([...kv.entries()]);
    await kv.close();
    const reopened = await WalKv.open<string>(dir, { valueEncoding: 'utf8' });
    expect(Object.fromEntries([...reopened.entries()])).toEqual(state);
    await reopened.close();
  });
});
