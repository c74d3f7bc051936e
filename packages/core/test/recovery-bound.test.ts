import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRAME_SEARCH_CHECK_BYTES_MIN, FRAME_SEARCH_CHECK_FACTOR, FSYS_FRAME_FORMAT, InterceptedIo, encodeFrames, nativeIo, recoverFrameLog, type IoFile, type IoOpenOptions, type RecoveryPolicy } from '../src/index.js';
import { useTempDir } from './temp-dir.js';

/** Counts every byte recovery reads: the work it does, measured without a clock. */
class CountingIo extends InterceptedIo {
  bytesRead = 0;
  constructor() {
    super(nativeIo);
  }
  override open(path: string, options: IoOpenOptions = {}): IoFile {
    const file = super.open(path, options);
    const readSync = file.readSync.bind(file);
    file.readSync = (into: Uint8Array, position: number): number => {
      const read = readSync(into, position);
      this.bytesRead += read;
      return read;
    };
    return file;
  }
}

const prefix = encodeFrames([new Uint8Array(100).fill(1), new Uint8Array(50).fill(2)], FSYS_FRAME_FORMAT);

/**
 * The adversary's tail: one bad byte, then every 8 bytes a frame magic and a length that
 * reaches exactly to the end of the file, so that every candidate frame must be read to
 * its end before its checksum can fail it.
 */
function craftedTail(bytes: number): Uint8Array {
  const tail = new Uint8Array(bytes);
  const view = new DataView(tail.buffer);
  tail[0] = 0xee;
  for (let at = 1; at + 8 <= bytes; at += 8) {
    view.setUint32(at, FSYS_FRAME_FORMAT.magic, false);
    view.setUint32(at + 4, bytes - at - 12, true);
  }
  return tail;
}

async function bytesExamined(dir: string, tailBytes: number, policy: RecoveryPolicy): Promise<{ bytesRead: number; outcome: string }> {
  const path = join(dir, `log-${tailBytes}-${policy}`);
  writeFileSync(path, Buffer.concat([prefix, craftedTail(tailBytes)]));
  const io = new CountingIo();
  const file = io.open(path, { write: true });
  try {
    const report = await recoverFrameLog({ io, file, format: FSYS_FRAME_FORMAT, policy, foreignIfBadStart: true });
    return { bytesRead: io.bytesRead, outcome: report.tailState };
  } catch (error) {
    return { bytesRead: io.bytesRead, outcome: (error as { code?: string }).code ?? String(error) };
  } finally {
    file.closeSync();
  }
}

describe('recovery is linear in the bytes after the damage', () => {
  const tempDir = useTempDir();

  const expected = { 'truncate-tail': 'KEEL_CORRUPT', salvage: 'bad-magic' } as const;
  for (const policy of ['truncate-tail', 'salvage'] as const) {
    it(`reads a bounded multiple of a crafted tail, whatever its size (${policy})`, async () => {
      const dir = tempDir();
      const small = await bytesExamined(dir, 256 << 10, policy);
      const large = await bytesExamined(dir, 1 << 20, policy);
      // Four times the tail must cost at most about four times the reads, never sixteen (quadratic).
      expect(large.bytesRead / small.bytesRead).toBeLessThan(5);
      // The scan (a window read again after its frames), the search's own pass, and its check budget.
      expect(large.bytesRead).toBeLessThan((FRAME_SEARCH_CHECK_FACTOR + 4) * (1 << 20) + FRAME_SEARCH_CHECK_BYTES_MIN);
      // Past the bound a tail is not proven torn: refused unless the caller asked to salvage.
      expect([small.outcome, large.outcome]).toEqual([expected[policy], expected[policy]]);
    });
  }
});
