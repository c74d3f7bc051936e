import { closeSync, fdatasync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';

const fdatasyncAsync = promisify(fdatasync);

/**
 * The floor every durable log is measured against: plain `node:fs` appends to one file,
 * `fdatasyncSync` after each batch. No framing, no checksums, no recovery.
 */
export class RawFsLog {
  readonly #fd: number;
  #position = 0;

  constructor(directory: string, name = 'raw.log') {
    this.#fd = openSync(join(directory, name), 'w+');
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
