import { closeSync, openSync, readSync } from 'node:fs';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import type { BenchSystem } from '../types.js';

/** The read size of keel's scans (core's CHUNK_READ_BYTES_DEFAULT), so the raw reader reads alike. */
export const RAW_READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads the files front to back in 1 MiB `readSync` calls into one reused buffer, checking
 * nothing (`dd bs=1M` in Node): the page-cache bandwidth any scan of them is bounded by.
 */
export function rawReader(paths: () => readonly string[]): BenchSystem {
  const chunk = Buffer.allocUnsafe(RAW_READ_CHUNK_BYTES);
  return {
    name: `${SYSTEM_RAW_FS} read (no parsing)`,
    async run() {
      for (const path of paths()) {
        const fd = openSync(path, 'r');
        try {
          let position = 0;
          for (let read = 1; read > 0; position += read) read = readSync(fd, chunk, 0, chunk.length, position);
        } finally {
          closeSync(fd);
        }
      }
    },
  };
}
