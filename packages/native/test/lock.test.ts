import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { NativeFile } from '../src/index.js';
import { tempDir, thrown } from './helpers.js';

const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.cjs', import.meta.url));

/** A child `node` process speaking one line per event; `next()` awaits the next line. */
function child(mode: 'hold' | 'try', path: string) {
  const process: ChildProcessWithoutNullStreams = spawn(globalThis.process.execPath, [HOLDER, mode, path]);
  const lines = createInterface({ input: process.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  process.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    process,
    async next(): Promise<string> {
      const line = await lines.next();
      if (line.done) throw new Error(`child ended without a line; stderr: ${stderr}`);
      return line.value;
    },
    send(line: string): void {
      process.stdin.write(`${line}\n`);
    },
  };
}

describe('exclusive lock', () => {
  it('a second open of the same file in this process gets EBUSY', () => {
    const path = join(tempDir(), 'locked.bin');
    const first = NativeFile.open(path, { create: true, lock: true });
    const error = thrown(() => NativeFile.open(path, { write: true, lock: true }));
    expect(error.code).toBe('EBUSY');
    expect(error.syscall).toBe('flock');
    expect(error.path).toBe(path);
    expect(error.message).toBe(`EBUSY: resource busy or locked, flock '${path}'`);
    // Advisory: an open that does not ask for the lock is not refused.
    NativeFile.open(path, { read: true }).closeSync();
    first.closeSync();
    NativeFile.open(path, { write: true, lock: true }).closeSync();
  });

  it('a lock held by another process refuses ours until it is released', async () => {
    const path = join(tempDir(), 'shared.bin');
    const holder = child('hold', path);
    expect(await holder.next()).toBe('locked');
    const error = thrown(() => NativeFile.open(path, { create: true, lock: true }));
    expect(error.code).toBe('EBUSY');
    expect(error.syscall).toBe('flock');
    holder.send('release');
    expect(await holder.next()).toBe('released');
    await once(holder.process, 'exit');
    NativeFile.open(path, { write: true, lock: true }).closeSync();
  });

  it('our lock refuses another process', async () => {
    const path = join(tempDir(), 'ours.bin');
    const file = NativeFile.open(path, { create: true, lock: true });
    const contender = child('try', path);
    expect(await contender.next()).toBe('error EBUSY flock');
    await once(contender.process, 'exit');
    file.closeSync();
    const after = child('try', path);
    expect(await after.next()).toBe('locked');
    await once(after.process, 'exit');
  });

  it('a crashed holder (SIGKILL) releases its lock', async () => {
    const path = join(tempDir(), 'crash.bin');
    const holder = child('hold', path);
    expect(await holder.next()).toBe('locked');
    expect(thrown(() => NativeFile.open(path, { write: true, lock: true })).code).toBe('EBUSY');
    holder.process.kill('SIGKILL');
    await once(holder.process, 'exit');
    NativeFile.open(path, { write: true, lock: true }).closeSync();
  });
});
