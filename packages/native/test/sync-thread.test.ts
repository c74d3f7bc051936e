import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { NativeFile, SyncThread } from '../src/index.js';
import { rejected, tempDir, thrown } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/sync-thread-child.cjs', import.meta.url));

/** Ids of this process's threads named as the sync thread names itself. */
function syncThreadIds(): Set<string> {
  const named = (task: string): boolean => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'keel-sync';
    } catch {
      return false; // exited meanwhile
    }
  };
  return new Set(readdirSync('/proc/self/task').filter(named));
}

/** Waits (bounded, turn by turn) until `done` holds for the sync threads' ids. */
async function syncThreadsUntil(done: (ids: Set<string>) => boolean): Promise<Set<string>> {
  for (let turn = 0; turn < 10_000 && !done(syncThreadIds()); turn++) await new Promise((resolve) => setImmediate(resolve));
  return syncThreadIds();
}

function writtenFile(directory: string, name: string, text: string): NativeFile {
  const file = NativeFile.open(join(directory, name), { create: true, write: true });
  file.writeSync(Buffer.from(text), 0);
  return file;
}

describe('SyncThread', () => {
  it('syncs files and closes once', async () => {
    const directory = tempDir();
    const thread = new SyncThread();
    const file = writtenFile(directory, 'a', 'hello');
    expect(thread.closed).toBe(false);
    expect(thread.spinMicroseconds).toBe(0);
    await expect(thread.datasync(file)).resolves.toBeUndefined();
    await expect(thread.fsync(file)).resolves.toBeUndefined();
    expect(readFileSync(join(directory, 'a'), 'utf8')).toBe('hello');
    thread.close();
    expect(thread.closed).toBe(true);
    expect(thrown(() => thread.close()).code).toBe('ECLOSED');
    expect(thrown(() => thread.datasync(file)).code).toBe('ECLOSED');
    file.closeSync();
  });

  it('owns one OS thread, which exits after close', async () => {
    const before = syncThreadIds();
    const thread = new SyncThread();
    // The thread names itself once it runs.
    const after = await syncThreadsUntil((ids) => [...ids].some((id) => !before.has(id)));
    const own = [...after].filter((id) => !before.has(id));
    expect(own).toHaveLength(1);
    thread.close();
    const [id] = own as [string];
    expect((await syncThreadsUntil((ids) => !ids.has(id))).has(id)).toBe(false);
  });

  it('settles the syncs asked for before close', async () => {
    const directory = tempDir();
    const thread = new SyncThread();
    const file = writtenFile(directory, 'a', 'x');
    const pending = [thread.datasync(file), thread.fsync(file), thread.datasync(file)];
    thread.close();
    await expect(Promise.all(pending)).resolves.toEqual([undefined, undefined, undefined]);
    file.closeSync();
  });

  it('refuses a closed file with ECLOSED before queueing anything', () => {
    const thread = new SyncThread();
    const file = writtenFile(tempDir(), 'a', 'x');
    file.closeSync();
    const error = thrown(() => thread.datasync(file));
    expect(error.code).toBe('ECLOSED');
    expect(error.syscall).toBe('fdatasync');
    thread.close();
  });

  it('rejects with the OS error of the sync, with code, syscall and path', async () => {
    const thread = new SyncThread();
    // A character device cannot be synced: fdatasync fails with EINVAL.
    const device = NativeFile.open('/dev/null', { write: true });
    const error = await rejected(thread.datasync(device));
    expect(error.code).toBe('EINVAL');
    expect(error.syscall).toBe('fdatasync');
    expect(error.path).toBe('/dev/null');
    expect((await rejected(thread.fsync(device))).syscall).toBe('fsync');
    // The threadpool twin fails the same way.
    expect((await rejected(device.datasync())).code).toBe('EINVAL');
    device.closeSync();
    thread.close();
  });

  it('answers many concurrent requests over several files, each with its own file outcome', async () => {
    const directory = tempDir();
    const thread = new SyncThread({ spinMicroseconds: 20 });
    const files = [0, 1, 2, 3].map((index) => writtenFile(directory, `f${index}`, `file ${index}`));
    const device = NativeFile.open('/dev/null', { write: true });
    const requests: Promise<string>[] = [];
    for (let round = 0; round < 100; round++) {
      for (const [index, file] of files.entries()) {
        const sync = (round + index) % 3 === 0 ? thread.fsync(file) : thread.datasync(file);
        requests.push(sync.then(() => 'ok'));
      }
      requests.push(thread.datasync(device).then(() => 'unexpected', (error: { code: string }) => error.code));
    }
    const outcomes = await Promise.all(requests);
    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(400);
    expect(outcomes.filter((outcome) => outcome === 'EINVAL')).toHaveLength(100);
    thread.close();
    device.closeSync();
    for (const file of files) file.closeSync();
  });

  it('bounds the spin', () => {
    expect(new SyncThread({ spinMicroseconds: 1000 }).spinMicroseconds).toBe(1000);
    expect(thrown(() => new SyncThread({ spinMicroseconds: 1001 })).code).toBe('EINVAL');
  });

  it('lets the process exit with the thread idle and never closed', () => {
    const result = spawnSync(process.execPath, [CHILD, 'idle', join(tempDir(), 'idle')], { encoding: 'utf8', timeout: 60_000 });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('synced\n');
  });

  it('keeps the process alive for a sync in flight', () => {
    const result = spawnSync(process.execPath, [CHILD, 'in-flight', join(tempDir(), 'in-flight')], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('settled\n');
  });

  it('survives a worker thread terminated with syncs in flight, and its sync thread exits with it', () => {
    const result = spawnSync(process.execPath, [CHILD, 'worker', join(tempDir(), 'worker')], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('terminated, sync threads left: 0\n');
  });
});
