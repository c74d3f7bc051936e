import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { isKeelError, type KeelErrorCode } from '@keel/core';

const created: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-payload-store-'));
  created.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Runs `call` and returns the KeelError code it threw (or rejected with). */
export async function codeOf(call: () => unknown): Promise<KeelErrorCode | 'no error'> {
  try {
    await call();
  } catch (error) {
    if (isKeelError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

/** Compares bytes whatever their container (a mapped Buffer or a Uint8Array). */
export function plain(view: Uint8Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}
