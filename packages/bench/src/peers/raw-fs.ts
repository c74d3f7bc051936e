import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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
    const bytes = payloads.length === 1 ? (payloads[0] as Uint8Array) : Buffer.concat(payloads);
    this.#position += writeSync(this.#fd, bytes, 0, bytes.length, this.#position);
    fdatasyncSync(this.#fd);
  }

  appendDurably(payload: Uint8Array): void {
    this.#position += writeSync(this.#fd, payload, 0, payload.length, this.#position);
    fdatasyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
