import { operationBytes } from './format.js';

/**
 * Where the current value of a key lives: `position` is the file offset of the value's
 * CRC-32C in the current log, followed by `length` value bytes.
 */
export interface IndexEntry {
  position: number;
  length: number;
  seq: number;
}

/**
 * The in-memory index: index key (see encoding.ts) → value location. It also counts the
 * dead bytes of the log (overwritten puts and every delete), which drive compaction.
 */
export class KeyIndex {
  readonly entries = new Map<string, IndexEntry>();
  deadBytes = 0;

  get size(): number {
    return this.entries.size;
  }

  applyPut(key: string, position: number, length: number, seq: number): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) this.deadBytes += operationBytes(key.length, previous.length);
    this.entries.set(key, { position, length, seq });
  }

  applyDelete(key: string): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.deadBytes += operationBytes(key.length, previous.length);
      this.entries.delete(key);
    }
    // The delete record itself is garbage for compaction, which writes live puts only.
    this.deadBytes += operationBytes(key.length, null);
  }
}
