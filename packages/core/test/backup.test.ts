import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuardedIo, OverlayIo, copyStoreFiles, nativeIo, withoutKernelCopies, type BackupProgress, type BackupSource, type Io } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

function content(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 131 + seed) & 0xff;
  return bytes;
}

/** Writes `bytes` to `dir/name` and opens it through `io` as a backup source of its whole length. */
function source(io: Io, dir: string, name: string, bytes: Uint8Array): BackupSource {
  writeFileSync(join(dir, name), bytes);
  return { file: io.open(join(dir, name)), name, length: bytes.length };
}

/** `source` for each of `files` (name → bytes). */
function sources(io: Io, dir: string, files: Record<string, Uint8Array>): BackupSource[] {
  return Object.entries(files).map(([name, bytes]) => source(io, dir, name, bytes));
}

/** Byte equality without a deep comparison per element (megabytes of them). */
function sameBytes(path: string, bytes: Uint8Array): boolean {
  return readFileSync(path).equals(bytes);
}

function closeAll(list: readonly BackupSource[]): void {
  for (const source of list) source.file.closeSync();
}

/** An Io that can only read and write. */
const readWriteOnlyIo = withoutKernelCopies(nativeIo);

describe('copyStoreFiles', () => {
  const tempDir = useTempDir();

  it('copies real files inside the kernel (reflink or copy_file_range), never through memory, and reports how', async () => {
    const dir = tempDir();
    const files = { 'a.log': content(3 * 1024 * 1024 + 17, 1), 'b.log': content(4096, 2), 'empty.log': new Uint8Array(0) };
    const list = sources(nativeIo, dir, files);
    const target = join(dir, 'copy');
    const report = await copyStoreFiles(nativeIo, list, target, true);
    closeAll(list);
    expect(report.copiedBy.readWrite).toBe(0);
    expect(report.copiedBy.reflink + report.copiedBy.copyFileRange).toBe(report.bytes);
    expect(report.bytes).toBe(3 * 1024 * 1024 + 17 + 4096);
    expect(readdirSync(target).sort()).toEqual(['a.log', 'b.log', 'empty.log']);
    for (const [name, bytes] of Object.entries(files)) expect(sameBytes(join(target, name), bytes)).toBe(true);
  });

  it('reaches the real file through a guarded source and an unchanged read-only view', async () => {
    const dir = tempDir();
    const bytes = content(100_000, 3);
    for (const io of [new GuardedIo(nativeIo), new OverlayIo(nativeIo)]) {
      const list = sources(io, dir, { 'data.log': bytes });
      const target = join(dir, `copy-${io.constructor.name}`);
      const report = await copyStoreFiles(nativeIo, list, target, true);
      closeAll(list);
      expect(report.copiedBy.readWrite).toBe(0);
      expect(sameBytes(join(target, 'data.log'), bytes)).toBe(true);
    }
  });

  it('copies through memory what a read-only view has changed, and from an Io that cannot copy', async () => {
    const dir = tempDir();
    const overlay = new OverlayIo(nativeIo);
    const changed = source(overlay, dir, 'data.log', content(50_000, 4));
    changed.file.writeSync(new Uint8Array([0xee, 0xee]), 10);
    const fromOverlay = await copyStoreFiles(nativeIo, [changed], join(dir, 'copy-1'), false);
    closeAll([changed]);
    expect(fromOverlay.copiedBy).toEqual({ reflink: 0, copyFileRange: 0, readWrite: 50_000 });
    expect(readFileSync(join(dir, 'copy-1'))[10]).toBe(0xee);
    overlay.close();

    const plain = sources(nativeIo, dir, { 'other.log': content(50_000, 5) });
    const report = await copyStoreFiles(readWriteOnlyIo, plain, join(dir, 'copy-2'), false);
    closeAll(plain);
    expect(report.copiedBy).toEqual({ reflink: 0, copyFileRange: 0, readWrite: 50_000 });
    expect(sameBytes(join(dir, 'copy-2'), content(50_000, 5))).toBe(true);
  });

  it('refuses a source shorter than the store says, either way of copying', async () => {
    const dir = tempDir();
    for (const [index, io] of [nativeIo, readWriteOnlyIo].entries()) {
      const short = source(nativeIo, dir, `short-${index}.log`, content(1000, 6));
      const claimed = { ...short, length: 5000 };
      await expect(copyStoreFiles(io, [claimed], join(dir, `copy-${index}`), false)).rejects.toMatchObject({ code: 'KEEL_CORRUPT' });
      short.file.closeSync();
    }
  });

  it('reports progress from 0 to the total, rising, ending before the copy is renamed into place', async () => {
    const dir = tempDir();
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 2_500_000 }), { minLength: 1, maxLength: 3 }), fc.boolean(), async (lengths, inKernel) => {
        const files = Object.fromEntries(lengths.map((length, index) => [`${index}.log`, content(length, index)]));
        const list = sources(nativeIo, dir, files);
        const target = join(dir, `copy-${round++}`);
        const seen: BackupProgress[] = [];
        const report = await copyStoreFiles(inKernel ? nativeIo : readWriteOnlyIo, list, target, true, {
          onProgress: (progress) => {
            // The last report comes before the rename: the target is not there yet.
            expect(readdirSync(dir)).not.toContain(target.slice(dir.length + 1));
            seen.push(progress);
          },
        });
        closeAll(list);
        const total = lengths.reduce((sum, length) => sum + length, 0);
        expect(seen[0]).toEqual({ copiedBytes: 0, totalBytes: total });
        expect(seen.at(-1)).toEqual({ copiedBytes: total, totalBytes: total });
        expect(seen.every((progress, index) => index === 0 || progress.copiedBytes >= (seen[index - 1] as BackupProgress).copiedBytes)).toBe(true);
        // Through memory, at least one report per MiB copied.
        if (!inKernel) expect(seen.length).toBeGreaterThanOrEqual(1 + lengths.reduce((sum, length) => sum + Math.ceil(length / (1024 * 1024)), 0));
        expect(report.bytes).toBe(total);
        for (const [name, bytes] of Object.entries(files)) expect(sameBytes(join(target, name), bytes)).toBe(true);
      }),
      { numRuns: 12 },
    );
  });
});
