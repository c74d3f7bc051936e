import { mkdtempSync, rmSync } from 'node:fs';
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
