import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const created: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-wal-kv-'));
  created.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: unknown): string {
  return new TextDecoder().decode(value as Uint8Array);
}

/** Expects `action` to throw (or reject with) a KeelError carrying `code`. */
export async function expectCode(action: () => unknown, code: string): Promise<void> {
  let caught: unknown = null;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  if (caught === null) throw new Error(`expected ${code}, nothing was thrown`);
  const actual = (caught as { code?: string }).code;
  if (actual !== code) throw new Error(`expected ${code}, got ${String(actual)}: ${(caught as Error).message}`);
}

/** The path of the one log generation in `dir`. */
export function logPath(dir: string): string {
  const logs = readdirSync(dir).filter((name) => /^wal-\d+\.log$/.test(name));
  if (logs.length !== 1) throw new Error(`expected one log in ${dir}, found ${logs.join(', ')}`);
  return join(dir, logs[0]!);
}

export function snapshotNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^snapshot-\d+\.snap$/.test(name));
}

/** Flips one bit of the byte at `offset` of `path`. */
export function flipByte(path: string, offset: number): void {
  const byte = Buffer.alloc(1);
  const descriptor = openSync(path, 'r+');
  try {
    readSync(descriptor, byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0x40;
    writeSync(descriptor, byte, 0, 1, offset);
  } finally {
    closeSync(descriptor);
  }
}

/** A store's or read view's entries as a map of string keys. */
export function contents(source: { entries(): IterableIterator<[string | Uint8Array, string]> }): Map<string, string> {
  return new Map([...source.entries()].map(([key, value]) => [String(key), value]));
}

/** One turn of the event loop (a slice of maintenance runs in it). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
