import type { KeyTable } from '@keel/core';

/**
 * A record sealed into the log's write buffer whose index update has not run yet.
 *
 * A durable write is two pieces of work one after the other: keel's CPU (encode, seal,
 * index update) and the log's write + fdatasync. Sealing must come first (the bytes
 * synced are the sealed ones), but the index update need not: the store seals a
 * record, hands it to the log, and applies it to the index while the fdatasync runs on
 * the log's sync thread. Until then the record waits here; every use of the index goes
 * through `KeyIndex.table`, which applies it first, so every read (and the next write's
 * key-count check) sees it as if it had been applied with the write.
 *
 * The bytes stay where they were sealed: a flush hands the write buffer to the OS
 * without changing it, and the writer applies this record before it encodes the next
 * (which, after a flush, goes where this one is), so `buffer[start..end]` still holds
 * the sealed frame when it is applied.
 */
export class DeferredApply {
  #waiting: { buffer: Uint8Array; start: number; end: number; frameOffset: number } | null = null;

  get pending(): boolean {
    return this.#waiting !== null;
  }

  /** Keeps the frame `sealRecord` sealed at `buffer[start..end]` (log offset `frameOffset`) to apply later. */
  defer(buffer: Uint8Array, start: number, end: number, frameOffset: number): void {
    if (this.#waiting !== null) throw new Error('a sealed record is already waiting: apply it before sealing the next');
    this.#waiting = { buffer, start, end, frameOffset };
  }

  /** Applies the waiting record, if any, to `table`; it is forgotten first, so it is never applied twice. */
  applyTo(table: KeyTable): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    this.#waiting = null;
    table.applySealedRecord(waiting.buffer, waiting.start, waiting.end, waiting.frameOffset);
  }
}
