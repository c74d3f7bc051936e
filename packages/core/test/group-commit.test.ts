import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurabilityDriver, GroupCommit, KeelError, nativeIo, type IoFile } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/**
 * A real file written at the end; it counts fdatasync calls and records, for each one,
 * the frontier that was written when it began and whether it has completed.
 */
class CountingLog {
  written = 0;
  syncedThrough = 0;
  syncs = 0;
  failNext: Error | null = null;
  constructor(readonly file: IoFile) {}

  append(bytes: number): number {
    this.file.writeSync(new Uint8Array(bytes).fill(1), this.written);
    this.written += bytes;
    return this.written;
  }

  target() {
    /** What every flush does first: capture the frontier, count, fail when told to. */
    const begin = (): number => {
      const frontier = this.written;
      this.syncs++;
      const failure = this.failNext;
      this.failNext = null;
      if (failure) throw failure;
      return frontier;
    };
    return {
      writtenThrough: () => this.written,
      flush: async () => {
        const frontier = begin();
        await this.file.datasync();
        this.syncedThrough = Math.max(this.syncedThrough, frontier);
      },
      flushSync: () => {
        const frontier = begin();
        this.file.datasyncSync();
        this.syncedThrough = Math.max(this.syncedThrough, frontier);
      },
    };
  }
}

const eio = (): Error => Object.assign(new Error('EIO: fdatasync'), { code: 'EIO' });

describe('group commit', () => {
  const tempDir = useTempDir();

  it('1,000 concurrent waiters share far fewer fdatasyncs, and none resolves early', async () => {
    const file = nativeIo.open(join(tempDir(), 'log'), { create: true });
    const log = new CountingLog(file);
    const commit = new GroupCommit(log.target());
    const early: number[] = [];
    const waits: Promise<number>[] = [];
    for (let i = 0; i < 1000; i++) {
      const position = log.append(100);
      waits.push(
        commit.syncThrough(position).then((durable) => {
          if (log.syncedThrough < position || durable < position) early.push(position);
          return durable;
        }),
      );
      // Let some flushes start while writers are still arriving.
      if (i % 100 === 99) await Promise.resolve();
    }
    await Promise.all(waits);
    file.closeSync();
    expect(early).toEqual([]);
    expect(log.syncs).toBeLessThanOrEqual(20);
    expect(commit.durableThrough).toBe(100_000);
  });

  it('does not report bytes written after a flush began as durable', async () => {
    const file = nativeIo.open(join(tempDir(), 'log'), { create: true });
    const log = new CountingLog(file);
    const commit = new GroupCommit(log.target());
    const first = commit.syncThrough(log.append(10));
    await Promise.resolve(); // the flush for `first` starts here
    const second = log.append(10); // written while the first flush is in flight
    const secondWait = commit.syncThrough(second);
    expect(await first).toBeGreaterThanOrEqual(10);
    expect(await secondWait).toBe(20);
    expect(log.syncedThrough).toBe(20);
    expect(log.syncs).toBe(2);
    file.closeSync();
  });

  it('a failed flush rejects its waiters and poisons every later call', async () => {
    const file = nativeIo.open(join(tempDir(), 'log'), { create: true });
    const log = new CountingLog(file);
    const failures: unknown[] = [];
    const commit = new GroupCommit(log.target(), 0, (error) => failures.push(error));
    log.failNext = Object.assign(new Error('EIO: fdatasync'), { code: 'EIO' });
    await expect(commit.syncThrough(log.append(10))).rejects.toThrow('EIO');
    expect(failures).toHaveLength(1);
    // A retry would find nothing dirty and "succeed"; keel refuses instead.
    await expect(commit.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
    expect(commit.durableThrough).toBe(0);
    file.closeSync();
  });

  it('refuses to wait for a position that was never written', async () => {
    const commit = new GroupCommit({ writtenThrough: () => 5, flush: async () => {} });
    await expect(commit.syncThrough(6)).rejects.toBeInstanceOf(KeelError);
    await expect(commit.syncThrough(6)).rejects.toMatchObject({ code: 'KEEL_BAD_ARGUMENT' });
  });

  it('writers of one turn share one flush', async () => {
    const file = nativeIo.open(join(tempDir(), 'log'), { create: true });
    const log = new CountingLog(file);
    const commit = new GroupCommit(log.target());
    const waits = Array.from({ length: 256 }, () => commit.syncThrough(log.append(100)));
    await Promise.all(waits);
    expect(log.syncs).toBe(1);
    file.closeSync();
  });

  it('every-n starts one flush per n writes; every-write coalesces a turn into one', async () => {
    let written = 0;
    let flushes = 0;
    const commit = new GroupCommit({ writtenThrough: () => written, flush: async () => void flushes++ });
    const everyN = new DurabilityDriver({ mode: 'every-n', n: 10 }, commit);
    for (let i = 0; i < 30; i++) {
      written++;
      everyN.afterWrite();
    }
    await commit.drain();
    await new Promise((resolve) => setImmediate(resolve));
    await commit.drain();
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(3);
    expect(commit.durableThrough).toBe(30);

    const everyWrite = new DurabilityDriver({ mode: 'every-write' }, commit);
    const before = flushes;
    for (let i = 0; i < 50; i++) {
      written++;
      everyWrite.afterWrite();
    }
    await new Promise((resolve) => setImmediate(resolve));
    await commit.drain();
    expect(flushes - before).toBe(1);
    expect(commit.durableThrough).toBe(80);
  });

  describe('syncThroughSync', () => {
    const openLog = (): { file: IoFile; log: CountingLog } => {
      const file = nativeIo.open(join(tempDir(), 'log'), { create: true });
      return { file, log: new CountingLog(file) };
    };

    it('syncs on the calling thread and settles the async waiters it covers', async () => {
      const { file, log } = openLog();
      const commit = new GroupCommit(log.target());
      const waiting = commit.syncThrough(log.append(10));
      const position = log.append(10);
      expect(commit.syncThroughSync(position)).toBe(20);
      expect(log.syncedThrough).toBe(20);
      expect(commit.durableThrough).toBe(20);
      expect(await waiting).toBe(20);
      // Nothing new: no second fdatasync.
      expect(commit.syncSync()).toBe(20);
      await commit.drain();
      expect(log.syncs).toBe(1);
      file.closeSync();
    });

    it('with an async flush in flight, each claims only what was written before its own fdatasync', async () => {
      const { file, log } = openLog();
      const commit = new GroupCommit(log.target());
      const first = commit.syncThrough(log.append(10));
      await Promise.resolve(); // the async flush for 10 starts here
      expect(commit.busy).toBe(true);
      log.append(10);
      expect(commit.syncSync()).toBe(20);
      const third = log.append(10);
      expect(await first).toBeGreaterThanOrEqual(10);
      await commit.drain();
      // The async flush's frontier was 10: it must not have claimed 30.
      expect(commit.durableThrough).toBe(20);
      expect(await commit.syncThrough(third)).toBe(30);
      file.closeSync();
    });

    it('a failed synchronous flush poisons like an async one: waiters rejected, later calls KEEL_POISONED', async () => {
      const { file, log } = openLog();
      const failures: unknown[] = [];
      const commit = new GroupCommit(log.target(), 0, (error) => failures.push(error));
      const waiting = commit.syncThrough(log.append(10));
      log.failNext = eio();
      expect(() => commit.syncSync()).toThrow('EIO');
      await expect(waiting).rejects.toThrow('EIO');
      expect(failures).toHaveLength(1);
      expect(() => commit.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
      await expect(commit.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
      expect(commit.durableThrough).toBe(0);
      file.closeSync();
    });

    it('an async flush that completes after a failed syncSync claims nothing', async () => {
      const { file, log } = openLog();
      const commit = new GroupCommit(log.target(), 0, () => undefined);
      const waiting = commit.syncThrough(log.append(10));
      await Promise.resolve(); // the async flush starts
      log.failNext = eio();
      expect(() => commit.syncSync()).toThrow('EIO');
      await expect(waiting).rejects.toThrow('EIO');
      await commit.drain();
      expect(commit.durableThrough).toBe(0);
      file.closeSync();
    });

    it('refuses a position never written, and a target without a synchronous flush', () => {
      const commit = new GroupCommit({ writtenThrough: () => 5, flush: async () => {} });
      expect(() => commit.syncThroughSync(6)).toThrow(expect.objectContaining({ code: 'KEEL_BAD_ARGUMENT' }));
      expect(() => commit.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_UNSUPPORTED' }));
    });
  });
});
