import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuardedIo, InterceptedIo, isKeelError, nativeIo, type IoMutation } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/** Counts the syncs that pass through it. */
class CountingIo extends InterceptedIo {
  readonly syncs: IoMutation[] = [];

  protected override aroundAsync<T>(operation: IoMutation, _path: string, run: () => Promise<T>): Promise<T> {
    if (operation === 'datasync' || operation === 'fsync') this.syncs.push(operation);
    return run();
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('nativeIo: a file that syncs on a thread of its own', () => {
  const tempDir = useTempDir();

  it('syncs what was written, and still through every wrapper', async () => {
    const path = join(tempDir(), 'a');
    const io = new CountingIo(nativeIo);
    const file = io.open(path, { create: true });
    expect(file.useSyncThread?.()).toBe(true);
    expect(file.useSyncThread?.()).toBe(true);
    file.writeSync(Buffer.from('one'), 0);
    await file.datasync();
    file.writeSync(Buffer.from('two'), 3);
    await Promise.all([file.fsync(), file.datasync(), file.datasync()]);
    expect(io.syncs).toEqual(['datasync', 'fsync', 'datasync', 'datasync']);
    file.closeSync();
    expect(readFileSync(path, 'utf8')).toBe('onetwo');
  });

  it('spins only as long as allowed', async () => {
    const file = nativeIo.open(join(tempDir(), 'a'), { create: true });
    let refused: unknown;
    try {
      file.useSyncThread?.({ spinMicroseconds: 1001 });
    } catch (error) {
      refused = error;
    }
    expect(isKeelError(refused, 'KEEL_BAD_ARGUMENT')).toBe(true);
    expect(file.useSyncThread?.({ spinMicroseconds: 50 })).toBe(true);
    file.writeSync(Buffer.from('x'), 0);
    await file.datasync();
    file.closeSync();
  });

  it('settles a sync asked for just before close', async () => {
    const file = nativeIo.open(join(tempDir(), 'a'), { create: true });
    file.useSyncThread?.();
    file.writeSync(Buffer.from('x'), 0);
    const pending = file.datasync();
    file.closeSync();
    await expect(pending).resolves.toBeUndefined();
  });

  it('turns errors into KeelErrors: a closed handle is KEEL_CLOSED', async () => {
    const file = nativeIo.open(join(tempDir(), 'a'), { create: true });
    file.useSyncThread?.();
    file.closeSync();
    expect(file.useSyncThread?.()).toBe(false);
    const error = await rejection(file.datasync());
    expect(isKeelError(error, 'KEEL_CLOSED')).toBe(true);
  });

  it('reports a failed sync with its errno and poisons a guarded store', async () => {
    const failures: unknown[] = [];
    const io = new GuardedIo(nativeIo);
    io.arm((error) => failures.push(error));
    // A character device cannot be synced: fdatasync fails with EINVAL.
    const device = io.open('/dev/null', { write: true });
    expect(device.useSyncThread?.()).toBe(true);
    const error = await rejection(device.datasync());
    expect(isKeelError(error, 'KEEL_IO')).toBe(true);
    expect((error as { errno?: string }).errno).toBe('EINVAL');
    expect(failures).toEqual([error]);
    device.closeSync();
  });
});
