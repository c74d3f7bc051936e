import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';

import type { NativeError } from '../src/index.js';

const created: string[] = [];

/** A fresh directory under os.tmpdir(), removed after the current test. */
export function tempDir(root: string = tmpdir()): string {
  const directory = mkdtempSync(join(root, 'keel-native-'));
  created.push(directory);
  return directory;
}

afterEach(() => {
  for (const directory of created.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** Runs `action`, expects it to throw, and returns the error for further checks. */
export function thrown(action: () => unknown): NativeError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as NativeError;
  }
  throw new Error('expected the call to throw');
}

export async function rejected(promise: Promise<unknown>): Promise<NativeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as NativeError;
  }
  throw new Error('expected the promise to reject');
}

export function bytes(length: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) {
    buffer[index] = (index * 31 + seed) & 0xff;
  }
  return buffer;
}
