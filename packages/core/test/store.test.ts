import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InterceptedIo,
  KeelError,
  STORE_LOCK_FILE_NAME,
  Store,
  cleanReport,
  ioError,
  nativeIo,
  normalizeDurability,
  openStoreDirectory,
  type DurabilityOption,
  type Io,
  type IoFile,
  type IoMutation,
  type StoreDirectory,
} from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/** Fails the mutations named in `failing` with EIO; while `hold`, async ones wait for `release`. */
class FlakyIo extends InterceptedIo {
  failing = new Set<IoMutation>();
  hold = false;
  readonly #held: Array<(fail: boolean) => void> = [];

  get heldCount(): number {
    return this.#held.length;
  }

  protected override aroundSync<T>(operation: IoMutation, path: string, run: () => T): T {
    if (this.failing.has(operation)) throw ioError('EIO', operation, path);
    return run();
  }

  protected override async aroundAsync<T>(operation: IoMutation, path: string, run: () => Promise<T>): Promise<T> {
    const fail = this.hold ? await new Promise<boolean>((resolve) => this.#held.push(resolve)) : this.failing.has(operation);
    if (fail) throw ioError('EIO', operation, path);
    return run();
  }

  /** Lets the held operations go on, failing each with EIO when `fail`. */
  release(fail: boolean): void {
    for (const resume of this.#held.splice(0)) resume(fail);
  }
}

/** A one-file store of raw bytes: the smallest subclass that exercises the protocol. */
class ByteStore extends Store<{ bytes: number }> {
  readonly #file: IoFile;
  #end = 0;

  static async open(dir: string, io: Io, durability?: DurabilityOption): Promise<ByteStore> {
    const opened = await openStoreDirectory(io, dir, async (store) => store.io.open(join(dir, 'bytes'), { create: true }));
    return new ByteStore(opened, normalizeDurability(durability));
  }

  private constructor(opened: StoreDirectory & { recovered: IoFile }, durability: ReturnType<typeof normalizeDurability>) {
    super({ name: 'byte store', io: opened.io, durability, durableThrough: 0, recovery: cleanReport(), lock: opened.lock });
    this.#file = opened.recovered;
  }

  append(bytes: Uint8Array): number {
    this.assertWritable();
    this.#file.writeSync(bytes, this.#end);
    this.#end += bytes.length;
    this.wrote();
    return this.#end;
  }

  /** A background task that writes a second file, as a snapshot or compaction would. */
  background(dir: string): Promise<void> {
    return this.maintain(async () => {
      const file = this.io.open(join(dir, 'side'), { create: true });
      try {
        await file.datasync();
      } finally {
        file.closeSync();
      }
    });
  }

  protected writtenThrough(): number {
    return this.#end;
  }
  protected async flushToDisk(): Promise<void> {
    await this.#file.datasync();
  }
  protected flushToDiskSync(): void {
    this.#file.datasyncSync();
  }
  protected handToOs(): void {}
  protected closeFiles(): void {
    this.#file.closeSync();
  }
  protected storeStats(): { bytes: number } {
    return { bytes: this.#end };
  }
}

const code = (error: unknown): string | undefined => (error instanceof KeelError ? error.code : undefined);

describe('Store', () => {
  const tempDir = useTempDir();

  it('reports the shared stats fields, then its own, also after close', async () => {
    const store = await ByteStore.open(tempDir(), nativeIo);
    store.append(new Uint8Array(3));
    expect(await store.sync()).toBe(3);
    expect(store.stats()).toEqual({ durability: { mode: 'explicit' }, writtenThrough: 3, durableThrough: 3, flushes: 1, poisoned: false, closed: false, readOnly: false, bytes: 3 });
    await store.close();
    expect(store.stats()).toMatchObject({ closed: true, bytes: 3 });
  });

  it('a failed write through any file it opened poisons it: the caller gets the failure, later calls KEEL_POISONED', async () => {
    const io = new FlakyIo(nativeIo);
    const store = await ByteStore.open(tempDir(), io);
    io.failing.add('write');
    expect(() => store.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_IO', errno: 'EIO' }));
    io.failing.clear();
    expect(() => store.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
    await expect(store.sync()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
    expect(() => store.syncSync()).toThrow(expect.objectContaining({ code: 'KEEL_POISONED' }));
    expect(store.stats().poisoned).toBe(true);
    await expect(store.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
    await expect(store.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  });

  it('a sync never resolves while a background write that began before it may still fail', async () => {
    const dir = tempDir();
    const io = new FlakyIo(nativeIo);
    const store = await ByteStore.open(dir, io);
    store.append(new Uint8Array(1));
    io.hold = true;
    const background = store.background(dir).catch((error: unknown) => error);
    while (io.heldCount === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    io.hold = false;
    // This sync's own flush succeeds; the background datasync held before it then fails.
    const sync = store.sync().then(
      () => 'resolved',
      (error: unknown) => code(error),
    );
    // Its flush completes first: the frontier is durable, yet the sync must wait.
    while (store.stats().durableThrough < 1) await new Promise<void>((resolve) => setImmediate(resolve));
    io.release(true);
    expect(code(await background)).toBe('KEEL_IO');
    expect(await sync).toBe('KEEL_POISONED');
    await expect(store.close()).rejects.toMatchObject({ code: 'KEEL_POISONED' });
  });

  it('a refused open releases the lock and removes a lock file it created', async () => {
    const dir = tempDir();
    const refusal = new KeelError('KEEL_CORRUPT', 'not ours');
    await expect(openStoreDirectory(nativeIo, dir, async () => Promise.reject(refusal))).rejects.toBe(refusal);
    expect(nativeIo.stat(join(dir, STORE_LOCK_FILE_NAME))).toBeNull();
    const store = await ByteStore.open(dir, nativeIo);
    await expect(ByteStore.open(dir, nativeIo)).rejects.toMatchObject({ code: 'KEEL_LOCKED' });
    await store.close();
    await store.close();
    expect(() => store.append(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'KEEL_CLOSED' }));
  });

  it('removing a file that is not there does not poison: it changed nothing', async () => {
    const dir = tempDir();
    const store = await ByteStore.open(dir, nativeIo);
    const io = (store as unknown as { io: Io }).io;
    expect(() => io.remove(join(dir, 'absent'))).toThrow(expect.objectContaining({ code: 'KEEL_NOT_FOUND' }));
    expect(store.stats().poisoned).toBe(false);
    await store.close();
  });
});
