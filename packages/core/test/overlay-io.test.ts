import { readdirSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OverlayIo, nativeIo } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function read(io: OverlayIo, path: string): Uint8Array {
  const file = io.open(path);
  const into = new Uint8Array(file.sizeSync());
  file.readSync(into, 0);
  file.closeSync();
  return into;
}

describe('OverlayIo', () => {
  const tempDir = useTempDir();

  it('opens the real file at open, as the inner Io would: a file replaced later still reads as opened, one gone at open is KEEL_NOT_FOUND there', () => {
    const dir = tempDir();
    const path = join(dir, 'a');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    const io = new OverlayIo(nativeIo);
    const file = io.open(path);
    // A writer in another process renames a new file over it before the first read.
    writeFileSync(join(dir, 'a.tmp'), Buffer.from([9, 9, 9, 9]));
    renameSync(join(dir, 'a.tmp'), path);
    const into = new Uint8Array(3);
    expect(file.readSync(into, 0)).toBe(3);
    expect(into).toEqual(bytes(1, 2, 3));
    // Listed (stat says it is there) but gone by the open.
    const vanishing = new OverlayIo(Object.assign(Object.create(nativeIo), { stat: () => ({ size: 3, isFile: true, isDirectory: false }) }));
    expect(() => vanishing.open(join(dir, 'gone'))).toThrow(expect.objectContaining({ code: 'KEEL_NOT_FOUND' }));
    io.close();
  });

  it('keeps writes, truncates, creates, renames and removes in memory; the disk keeps every byte', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), Buffer.from([1, 2, 3, 4, 5]));
    writeFileSync(join(dir, 'b'), Buffer.from([9]));
    const io = new OverlayIo(nativeIo);
    const a = io.open(join(dir, 'a'), { write: true, lock: true });
    a.writeSync(bytes(7, 7), 3);
    a.setLengthSync(4);
    expect(read(io, join(dir, 'a'))).toEqual(bytes(1, 2, 3, 7));
    const c = io.open(join(dir, 'c'), { createNew: true });
    c.writeSync(bytes(4), 0);
    io.rename(join(dir, 'c'), join(dir, 'd'));
    io.remove(join(dir, 'b'));
    io.mkdir(join(dir, 'sub', 'deeper'));
    expect(io.list(dir)).toEqual(['a', 'd', 'sub']);
    expect(io.stat(join(dir, 'b'))).toBeNull();
    expect(read(io, join(dir, 'd'))).toEqual(bytes(4));
    expect(io.changed).toBe(true);
    io.close();
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
    expect([...readFileSync(join(dir, 'a'))]).toEqual([1, 2, 3, 4, 5]);
  });

  it('sees a file as it was when first opened: data a writer appends later is not in this view', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'log'), Buffer.from([1]));
    const io = new OverlayIo(nativeIo);
    const file = io.open(join(dir, 'log'));
    expect(file.sizeSync()).toBe(1);
    appendFileSync(join(dir, 'log'), Buffer.from([2]));
    expect(file.sizeSync()).toBe(1);
    const into = new Uint8Array(2);
    expect(file.readSync(into, 0)).toBe(1);
    expect(io.changed).toBe(false);
    io.close();
    const again = new OverlayIo(nativeIo);
    expect(again.open(join(dir, 'log')).sizeSync()).toBe(2);
    again.close();
  });

  it('reads what a plain in-memory file would hold after any writes and truncates', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300_000 }),
        fc.array(fc.oneof(fc.record({ at: fc.nat(300_000), data: fc.uint8Array({ minLength: 1, maxLength: 70_000 }) }), fc.record({ length: fc.nat(300_000) })), { maxLength: 8 }),
        (initial, steps) => {
          const dir = tempDir();
          writeFileSync(join(dir, 'f'), initial);
          let model = Uint8Array.from(initial);
          const io = new OverlayIo(nativeIo);
          const file = io.open(join(dir, 'f'), { write: true });
          for (const step of steps) {
            if ('data' in step) {
              const grown = new Uint8Array(Math.max(model.length, step.at + step.data.length));
              grown.set(model);
              grown.set(step.data, step.at);
              model = grown;
              file.writeSync(step.data, step.at);
            } else {
              const cut = new Uint8Array(step.length);
              cut.set(model.subarray(0, step.length));
              model = cut;
              file.setLengthSync(step.length);
            }
          }
          // Buffer.compare: a deep equality of 300 KB arrays element by element is slow.
          expect(Buffer.compare(read(io, join(dir, 'f')), model)).toBe(0);
          io.close();
          expect(Buffer.compare(readFileSync(join(dir, 'f')), initial)).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
