import { closeSync, openSync, readSync } from 'node:fs';
import { allocAlignedBuffer } from '@keel/core';
import { SYSTEM_RAW_FS } from './peer-systems.js';
import type { BenchSystem } from '../types.js';

/** `dd bs=1M`. */
export const RAW_READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads the files front to back in 1 MiB `readSync` calls into one reused buffer, checking
 * nothing (`dd bs=1M` in Node): the page-cache bandwidth any scan of them is bounded by.
 * The buffer is page-aligned, so the kernel copies page to page: a plain Buffer of 1 MiB
 * sits 16 bytes into a page, which makes the copy of a read at a page-aligned position
 * up to six times slower on some CPUs (see @keel/core's read-placement).
 */
export function rawReader(paths: () => readonly string[]): BenchSystem {
  const chunk = allocAlignedBuffer(RAW_READ_CHUNK_BYTES);
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
