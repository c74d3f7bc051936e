import { closeSync, fdatasync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';

const fdatasyncAsync = promisify(fdatasync);

/** Zeros are written a MiB at a time, here and by the scenarios that prepare space (log-file-space.ts). */
export const ZERO_CHUNK_BYTES = 1024 * 1024;

/**
 * The floor every durable log is measured against: plain `node:fs` appends to one file,
 * `fdatasyncSync` after each batch. No framing, no checksums, no recovery.
 *
 * With `prewrittenBytes`, the file's first bytes are written (zeros) and synced before
 * the first batch, and the batches overwrite them: no write grows the file, so no
 * fdatasync has a new file size or a block allocation to commit to the file system's
 * journal. What appending itself costs is the difference between the two.
 */
export class RawFsLog {
  readonly #fd: number;
  readonly #prewrittenBytes: number;
  #position = 0;

  constructor(directory: string, name = 'raw.log', prewrittenBytes = 0) {
    this.#fd = openSync(join(directory, name), 'w+');
    this.#prewrittenBytes = prewrittenBytes;
    if (prewrittenBytes > 0) {
      const zeros = Buffer.alloc(ZERO_CHUNK_BYTES);
      for (let at = 0; at < prewrittenBytes; at += zeros.length) writeSync(this.#fd, zeros, 0, Math.min(zeros.length, prewrittenBytes - at), at);
      fdatasyncSync(this.#fd);
    }
  }

  get position(): number {
    return this.#position;
  }

  /** Writes the batch as one buffer (how a caller of writeSync would) and syncs it. */
  appendBatchDurably(payloads: readonly Uint8Array[]): void {
    this.#writeBatch(payloads);
    fdatasyncSync(this.#fd);
  }

  /** The same with the fdatasync on the threadpool (`fs.fdatasync`), as an async store's sync runs. */
  async appendBatchDurablyAsync(payloads: readonly Uint8Array[]): Promise<void> {
    this.#writeBatch(payloads);
    await fdatasyncAsync(this.#fd);
  }

  #writeBatch(payloads: readonly Uint8Array[]): void {
    const bytes = payloads.length === 1 ? (payloads[0] as Uint8Array) : Buffer.concat(payloads);
    // Past the pre-written bytes the write would append after all, and the figure would mean nothing.
    if (this.#prewrittenBytes > 0 && this.#position + bytes.length > this.#prewrittenBytes) {
      throw new Error(`the ${this.#prewrittenBytes} pre-written bytes are used up: write at most that much per run`);
    }
    this.#position += writeSync(this.#fd, bytes, 0, bytes.length, this.#position);
  }

  appendDurably(payload: Uint8Array): void {
    this.#position += writeSync(this.#fd, payload, 0, payload.length, this.#position);
    fdatasyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
