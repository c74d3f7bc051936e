import { encodeFrame, joinPath, type Io } from '@keel/core';
import type { ReferenceFlaws } from './flaws.js';
import { INDEX_FORMAT, encodeCount, indexName } from './format.js';

/** Writes a segment's index and makes it durable (its directory entry too, unless flawed). */
export async function writeIndex(io: Io, dir: string, base: number, count: number, flaws: ReferenceFlaws): Promise<void> {
  writeIndexSync(io, dir, base, count);
  if (!flaws.skipDirectorySync) await io.syncDir(dir);
}

export function writeIndexSync(io: Io, dir: string, base: number, count: number): void {
  const file = io.open(joinPath(dir, indexName(base)), { create: true, truncate: true });
  try {
    file.writeSync(encodeFrame(encodeCount(count), INDEX_FORMAT), 0);
    file.datasyncSync();
  } finally {
    file.closeSync();
  }
}
