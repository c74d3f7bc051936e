import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { ioError, type Io, type IoFile } from '@keel/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { BATCH_OVERHEAD_BYTES } from '../src/format.js';

const created: string[] = [];

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-segment-log-'));
  created.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The bytes of a batch frame holding one record of `valueBytes` (below 128) without key or
 * headers, appended on its own (its timestamp delta 0): the frame's 32, and a byte each for
 * the delta, the key field, the value length and the header count.
 */
export function oneRecordFrameBytes(valueBytes: number): number {
  return BATCH_OVERHEAD_BYTES + 4 + valueBytes;
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array | null): string | null {
  return value === null ? null : new TextDecoder().decode(value);
}

/** Runs `call` and returns the KeelError code it threw (or 'none'). */
export async function codeOf(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    return (error as { code?: string }).code ?? 'no-code';
  }
  return 'none';
}

export interface Faults {
  /** Fail every datasync/fsync with EIO while true. */
  failSync: boolean;
  /** Fail every write with EIO while true. */
  failWrite: boolean;
  /** Bytes read through the Io so far. */
  bytesRead: number;
  /** `.log` files open now, and the most that were open at once. */
  openLogFiles: number;
  openLogFilesMax: number;
}

/** An Io that forwards to `inner` and injects the failures `faults` asks for. */
export function faultyIo(inner: Io, faults: Faults): Io {
  const wrapFile = (file: IoFile): IoFile => {
    const maybeFail = (what: 'sync' | 'write', syscall: string): void => {
      if ((what === 'sync' && faults.failSync) || (what === 'write' && faults.failWrite)) throw ioError('EIO', syscall, file.path);
    };
    return {
      get path() { return file.path; },
      get isDirect() { return file.isDirect; },
      get directFallback() { return file.directFallback; },
      writeSync: (data, position) => { maybeFail('write', 'pwrite'); file.writeSync(data, position); },
      writevSync: (buffers, position) => { maybeFail('write', 'pwritev'); file.writevSync(buffers, position); },
      write: async (data, position) => { maybeFail('write', 'pwrite'); await file.write(data, position); },
      writev: async (buffers, position) => { maybeFail('write', 'pwritev'); await file.writev(buffers, position); },
      readSync: (into, position) => { const read = file.readSync(into, position); faults.bytesRead += read; return read; },
      read: async (into, position) => { const read = await file.read(into, position); faults.bytesRead += read; return read; },
      sizeSync: () => file.sizeSync(),
      setLengthSync: (length) => file.setLengthSync(length),
      datasyncSync: () => { maybeFail('sync', 'fdatasync'); file.datasyncSync(); },
      datasync: async () => { maybeFail('sync', 'fdatasync'); await file.datasync(); },
      fsync: async () => { maybeFail('sync', 'fsync'); await file.fsync(); },
      preallocateSync: (offset, length) => file.preallocateSync(offset, length),
      adviseSync: (offset, length, advice) => file.adviseSync(offset, length, advice),
      mapSync: (offset, length) => file.mapSync(offset, length),
      closeSync: () => {
        file.closeSync();
        if (file.path.endsWith('.log')) faults.openLogFiles--;
      },
    };
  };
  return {
    open: (path, options) => {
      const file = wrapFile(inner.open(path, options));
      if (path.endsWith('.log')) faults.openLogFilesMax = Math.max(faults.openLogFilesMax, ++faults.openLogFiles);
      return file;
    },
    stat: (path) => inner.stat(path),
    list: (dir) => inner.list(dir),
    mkdir: (dir) => inner.mkdir(dir),
    remove: (path) => inner.remove(path),
    rename: (from, to) => inner.rename(from, to),
    syncDir: async (dir) => { if (faults.failSync) throw ioError('EIO', 'fsync', dir); await inner.syncDir(dir); },
    syncDirSync: (dir) => { if (faults.failSync) throw ioError('EIO', 'fsync', dir); inner.syncDirSync(dir); },
  };
}

export function newFaults(): Faults {
  return { failSync: false, failWrite: false, bytesRead: 0, openLogFiles: 0, openLogFilesMax: 0 };
}

/** Files of `dir` with a given suffix, sorted. */
export function filesEndingWith(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(suffix)).sort().map((name) => join(dir, name));
}

export function flipByte(path: string, position: number): void {
  const data = readFileSync(path);
  data[position] = (data[position] as number) ^ 0xff;
  writeFileSync(path, data);
}
