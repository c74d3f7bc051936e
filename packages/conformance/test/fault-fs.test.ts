import { createDirectoryDurably, isKeelError } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../src/index.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

function read(fs: FaultFs, path: string): Uint8Array {
  return fs.files().get(path) ?? new Uint8Array(0);
}

function crashLosingAll(fs: FaultFs): FaultFs {
  return fs.crash({ seed: 1, data: { mode: 'lose-all' }, entries: 'lose-all' }).fs;
}

describe('FaultFs as an Io', () => {
  it('extends positional writes with zeros and shows unsynced bytes to reads', () => {
    const fs = new FaultFs();
    fs.mkdir('/d');
    const file = fs.open('/d/f', { create: true });
    file.writeSync(bytes(1, 2), 4);
    const into = new Uint8Array(8);
    expect(file.readSync(into, 0)).toBe(6);
    expect([...into.subarray(0, 6)]).toEqual([0, 0, 0, 0, 1, 2]);
    expect(file.sizeSync()).toBe(6);
    expect([...file.mapSync(4, 2)]).toEqual([1, 2]);
  });

  it('loses a new directory, and what is in it, unless its parent was synced', async () => {
    const fs = new FaultFs();
    fs.mkdir('/store/inner');
    const file = fs.open('/store/inner/f', { create: true });
    file.writeSync(bytes(7), 0);
    await file.datasync();
    await fs.syncDir('/store/inner');
    expect(crashLosingAll(fs).stat('/store')).toBeNull();
    expect(crashLosingAll(fs).stat('/store/inner/f')).toBeNull();
    await fs.syncDir('/');
    expect(crashLosingAll(fs).stat('/store')?.isDirectory).toBe(true);
    expect(crashLosingAll(fs).stat('/store/inner')).toBeNull();
    await fs.syncDir('/store');
    expect([...read(crashLosingAll(fs), '/store/inner/f')]).toEqual([7]);
  });

  it('createDirectoryDurably makes every directory it creates, and the one it is given, survive a crash', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/a/b/c');
    expect(crashLosingAll(fs).list('/a/b')).toEqual(['c']);
    fs.mkdir('/x');
    // Made by an earlier process that died before syncing: the next open makes it durable.
    await createDirectoryDurably(fs, '/x');
    expect(crashLosingAll(fs).list('/')).toEqual(['a', 'x']);
  });

  it('copies a range between its own files as one unsynced write of the target, and refuses another disk\'s file', async () => {
    const fs = new FaultFs();
    fs.mkdir('/d');
    const source = fs.open('/d/source', { create: true });
    source.writeSync(bytes(1, 2, 3, 4, 5), 0);
    await source.datasync();
    const target = fs.open('/d/target', { create: true });
    await fs.syncDir('/');
    await fs.syncDir('/d');
    expect(await target.copyRangeFrom?.(source, 1, 10, 2)).toEqual({ reflink: 0, copyFileRange: 4, readWrite: 0 });
    expect([...read(fs, '/d/target')]).toEqual([0, 0, 2, 3, 4, 5]);
    // Unsynced: a crash loses it, a datasync keeps it.
    expect([...read(crashLosingAll(fs), '/d/target')]).toEqual([]);
    await target.datasync();
    expect([...read(crashLosingAll(fs), '/d/target')]).toEqual([0, 0, 2, 3, 4, 5]);
    const other = new FaultFs();
    const foreign = other.open('/x', { create: true });
    expect(await target.copyRangeFrom?.(foreign, 0, 1, 0)).toBeNull();
    fs.inject({ operation: 'write', nth: 1, errno: 'ENOSPC' });
    await expect(target.copyRangeFrom?.(source, 0, 5, 0)).rejects.toMatchObject({ code: 'KEEL_IO', errno: 'ENOSPC' });
  });

  it('a stale crash shows, where unsynced writes were, what another file holds at those offsets', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d');
    const old = fs.open('/d/old', { create: true });
    old.writeSync(bytes(1, 2, 3, 4, 5, 6), 0);
    await old.datasync();
    const file = fs.open('/d/new', { create: true });
    file.writeSync(bytes(9, 9), 0);
    await file.datasync();
    await fs.syncDir('/d');
    file.writeSync(bytes(8, 8, 8), 2);
    const images = new Set<string>();
    for (let seed = 0; seed < 16; seed++) images.add(read(fs.crash({ seed, data: { mode: 'stale' }, entries: 'keep-all' }).fs, '/d/new').join(','));
    // The stale bytes of /d/old at offsets 2–4, or the write itself when it came before the chosen point.
    expect([...images].sort()).toEqual(['9,9,3,4,5', '9,9,8,8,8']);
  });

  it('keeps exactly the pending entry operations a mask names: an unlink can land without an earlier one', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d');
    for (const name of ['a', 'b', 'c']) fs.open(`/d/${name}`, { create: true }).closeSync();
    await fs.syncDir('/d');
    fs.remove('/d/a');
    fs.remove('/d/b');
    expect(fs.pendingEntryOperations).toBe(2);
    const names = (keep: number): string[] => fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: { keep } }).fs.list('/d');
    expect(names(0b00)).toEqual(['a', 'b', 'c']);
    expect(names(0b10)).toEqual(['a', 'c']);
    expect(names(0b01)).toEqual(['b', 'c']);
    expect(names(0b11)).toEqual(['c']);
  });

  it('loses unsynced data and entries in a crash, keeps what datasync and syncDir made durable', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d');
    const file = fs.open('/d/f', { create: true });
    file.writeSync(bytes(1, 2, 3), 0);
    expect(crashLosingAll(fs).stat('/d/f')).toBeNull();
    await fs.syncDir('/d');
    expect(crashLosingAll(fs).stat('/d/f')?.size).toBe(0);
    await file.datasync();
    file.writeSync(bytes(9), 3);
    expect([...read(crashLosingAll(fs), '/d/f')]).toEqual([1, 2, 3]);
  });

  it('makes a directory removal durable only after its parent is synced, and brings back what survives in it', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d/inner');
    const file = fs.open('/d/inner/f', { create: true });
    file.writeSync(bytes(5), 0);
    await file.datasync();
    await fs.syncDir('/d/inner');
    fs.remove('/d/inner/f');
    fs.remove('/d/inner');
    expect(fs.list('/d')).toEqual([]);
    expect(fs.stat('/d/inner')).toBeNull();
    // Neither the unlink nor the rmdir reached the disk: the directory and its file are back.
    const lostAll = crashLosingAll(fs);
    expect(lostAll.list('/d')).toEqual(['inner']);
    expect([...read(lostAll, '/d/inner/f')]).toEqual([5]);
    const keepAll = fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs;
    expect(keepAll.stat('/d/inner')).toBeNull();
    // The rmdir is operation 0 (in /d), the unlink operation 1 (in the removed /d/inner, counted last): the rmdir lost alone brings back an empty directory.
    expect(fs.pendingEntryOperations).toBe(2);
    const rmdirLost = fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: { keep: 0b10 } }).fs;
    expect(rmdirLost.list('/d')).toEqual(['inner']);
    expect(rmdirLost.list('/d/inner')).toEqual([]);
    await fs.syncDir('/d');
    expect(crashLosingAll(fs).list('/d')).toEqual([]);
  });

  it('keeps the page cache through a process crash, durable or not, and can crash inside the next sync', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d');
    const file = fs.open('/d/f', { create: true, lock: true });
    await fs.syncDir('/d');
    file.writeSync(bytes(1, 2), 0);
    fs.crashAtNextSync();
    await expect(file.datasync()).rejects.toSatisfy((error: unknown) => isKeelError(error, 'KEEL_IO'));
    const restarted = fs.afterProcessCrash();
    // The dead process's lock is gone; its write is still in the page cache, and still not durable.
    restarted.open('/d/f', { lock: true }).closeSync();
    expect([...read(restarted, '/d/f')]).toEqual([1, 2]);
    expect(read(crashLosingAll(restarted), '/d/f').length).toBe(0);
  });

  it('makes a rename durable only after syncDir', async () => {
    const fs = new FaultFs();
    await createDirectoryDurably(fs, '/d');
    fs.open('/d/a', { create: true }).writeSync(bytes(7), 0);
    await fs.syncDir('/d');
    fs.rename('/d/a', '/d/b');
    expect(fs.list('/d')).toEqual(['b']);
    expect(crashLosingAll(fs).list('/d')).toEqual(['a']);
    await fs.syncDir('/d');
    expect(crashLosingAll(fs).list('/d')).toEqual(['b']);
  });

  it('refuses a second lock holder with KEEL_LOCKED and use after close with KEEL_CLOSED', () => {
    const fs = new FaultFs();
    const first = fs.open('/lock', { create: true, lock: true });
    expect(() => fs.open('/lock', { lock: true })).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    first.closeSync();
    expect(() => first.readSync(new Uint8Array(1), 0)).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
    expect(() => fs.open('/lock', { lock: true })).not.toThrow();
    expect(() => fs.open('/missing')).toThrow(expect.objectContaining({ code: 'KEEL_NOT_FOUND' }));
  });

  it('locks a directory through a read-only open of it, as flock on a directory descriptor does', () => {
    const fs = new FaultFs();
    fs.mkdir('/store');
    const held = fs.open('/store', { lock: true });
    expect(() => fs.open('/store', { lock: true })).toThrow(expect.objectContaining({ code: 'KEEL_LOCKED' }));
    expect(() => held.readSync(new Uint8Array(1), 0)).toThrow(expect.objectContaining({ code: 'KEEL_IO', errno: 'EISDIR' }));
    held.closeSync();
    fs.open('/store', { lock: true }).closeSync();
  });

  it('drops the unsynced pages on an injected fsync failure, and the retried fsync succeeds', async () => {
    const fs = new FaultFs();
    const file = fs.open('/f', { create: true });
    await fs.syncDir('/');
    file.writeSync(bytes(1, 2), 0);
    fs.inject({ operation: 'sync', nth: 1, errno: 'EIO' });
    await expect(file.datasync()).rejects.toSatisfy((error: unknown) => isKeelError(error, 'KEEL_IO') && error.errno === 'EIO');
    await expect(file.datasync()).resolves.toBeUndefined();
    expect(fs.injectionsFired).toBe(1);
    expect(read(fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs, '/f').length).toBe(0);
  });

  it('persists half of a short write before failing', () => {
    const fs = new FaultFs();
    const file = fs.open('/f', { create: true });
    fs.inject({ operation: 'write', nth: 2, errno: 'ENOSPC', short: true });
    file.writeSync(bytes(1), 0);
    expect(() => file.writeSync(bytes(2, 3, 4, 5), 1)).toThrow(expect.objectContaining({ code: 'KEEL_IO', errno: 'ENOSPC' }));
    expect([...read(fs, '/f')]).toEqual([1, 2, 3]);
  });

  it('holds syncs until released, and a crash meanwhile loses what they would have made durable', async () => {
    const fs = new FaultFs();
    const file = fs.open('/f', { create: true });
    await fs.syncDir('/');
    file.writeSync(bytes(1), 0);
    fs.holdSyncs();
    let done = false;
    const sync = file.datasync().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    expect(fs.heldSyncs).toBe(1);
    expect(read(crashLosingAll(fs), '/f').length).toBe(0);
    fs.releaseSyncs();
    await sync;
    expect([...read(crashLosingAll(fs), '/f')]).toEqual([1]);
  });

  it('freezes at an armed crash point and materialises the state from just before it', async () => {
    const fs = new FaultFs();
    const file = fs.open('/f', { create: true });
    await fs.syncDir('/');
    fs.crashAtMutation(2);
    file.writeSync(bytes(1), 0);
    expect(() => file.writeSync(bytes(2), 1)).toThrow(expect.objectContaining({ code: 'KEEL_IO' }));
    expect(fs.frozen).toBe(true);
    expect([...read(fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs, '/f')]).toEqual([1]);
  });
});

describe('crash states', () => {
  const writes = fc.array(fc.tuple(fc.integer({ min: 0, max: 64 }), fc.uint8Array({ minLength: 1, maxLength: 40 })), { minLength: 1, maxLength: 6 });

  it('a byte-prefix crash keeps the synced bytes plus a prefix, in write order, of the later writes', () => {
    fc.assert(
      fc.property(writes, fc.nat(), (operations, seed) => {
        const fs = new FaultFs();
        const file = fs.open('/f', { create: true });
        fs.syncDirSync('/');
        file.writeSync(bytes(9, 9, 9, 9), 0);
        file.datasyncSync();
        for (const [position, data] of operations) file.writeSync(data, position);
        const after = read(fs.crash({ seed, data: { mode: 'byte-prefix' }, entries: 'keep-all' }).fs, '/f');
        // Some number of whole writes, then part of the next one, applied to the synced bytes.
        const candidates: Uint8Array[] = [];
        for (let whole = 0; whole <= operations.length; whole++) {
          const base = new FaultFs();
          const replay = base.open('/f', { create: true });
          replay.writeSync(bytes(9, 9, 9, 9), 0);
          for (const [position, data] of operations.slice(0, whole)) replay.writeSync(data, position);
          const next = operations[whole];
          for (let length = 0; length <= (next ? next[1].length : 0); length++) {
            const copy = base.clone();
            if (next && length > 0) copy.open('/f', { write: true }).writeSync(next[1].subarray(0, length), next[0]);
            candidates.push(read(copy, '/f'));
          }
        }
        expect(candidates.some((candidate) => candidate.length === after.length && candidate.every((byte, i) => byte === after[i]))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a bit flip changes exactly one bit of old, synced data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (data, seed) => {
        const fs = new FaultFs();
        fs.open('/f', { create: true }).writeSync(data, 0);
        fs.syncDirSync('/');
        fs.open('/f').datasyncSync();
        const { fs: after, effects } = fs.crash({ seed, data: { mode: 'keep-all' }, entries: 'keep-all', damage: { kind: 'bit-flip' } });
        const flipped = read(after, '/f');
        let bits = 0;
        for (let i = 0; i < data.length; i++) for (let x = (data[i] as number) ^ (flipped[i] as number); x > 0; x >>= 1) bits += x & 1;
        expect(bits).toBe(1);
        expect(effects.damagedPath).toBe('/f');
      }),
      { numRuns: 200 },
    );
  });

  it('copies the bytes it was given: a caller reusing its buffer changes nothing written', () => {
    const fs = new FaultFs();
    const file = fs.open('/f', { create: true });
    const reused = Buffer.from([1, 2, 3]);
    file.writeSync(reused, 0);
    reused.fill(7);
    expect([...read(fs.crash({ seed: 1, data: { mode: 'keep-all' }, entries: 'keep-all' }).fs, '/f')]).toEqual([1, 2, 3]);
  });
});
