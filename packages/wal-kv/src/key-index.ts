import { OPERATION_PUT, operationBytes, type Operation } from './format.js';

const SLOTS_INITIAL = 1024;

/**
 * The in-memory index: index key (see encoding.ts) → slot, and per slot where the key's
 * current value lives: `position` is the file offset of the value's CRC-32C in the current
 * log, followed by `length` value bytes, written with `seq`.
 *
 * The per-key fields live in typed arrays rather than one object per key: with millions
 * of keys that saves memory and keeps the garbage collector from copying every entry
 * into the old generation. Freed slots are reused.
 *
 * It also counts the dead bytes of the log (overwritten puts and every delete), which
 * drive compaction.
 */
export class KeyIndex {
  readonly slots = new Map<string, number>();
  deadBytes = 0;
  #positions = new Float64Array(SLOTS_INITIAL);
  #lengths = new Uint32Array(SLOTS_INITIAL);
  #seqs = new Float64Array(SLOTS_INITIAL);
  #used = 0;
  #free: number[] = [];

  get size(): number {
    return this.slots.size;
  }

  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  position(slot: number): number {
    return this.#positions[slot]!;
  }

  length(slot: number): number {
    return this.#lengths[slot]!;
  }

  seq(slot: number): number {
    return this.#seqs[slot]!;
  }

  /** Moves a value (compaction): same key, same seq, new place. */
  relocate(slot: number, position: number): void {
    this.#positions[slot] = position;
  }

  /**
   * The key count after `operations` were applied in order, without applying them: what
   * a write is checked against before anything of it is encoded.
   */
  sizeAfter(operations: readonly Operation[]): number {
    if (operations.length === 1) {
      const present = this.slots.has(operations[0]!.key);
      return this.slots.size + (operations[0]!.type === OPERATION_PUT ? (present ? 0 : 1) : present ? -1 : 0);
    }
    let size = this.slots.size;
    const touched = new Map<string, boolean>();
    for (const operation of operations) {
      const present = touched.get(operation.key) ?? this.slots.has(operation.key);
      const put = operation.type === OPERATION_PUT;
      if (put && !present) size++;
      else if (!put && present) size--;
      touched.set(operation.key, put);
    }
    return size;
  }

  applyPut(key: string, position: number, length: number, seq: number): void {
    let slot = this.slots.get(key);
    if (slot !== undefined) {
      this.deadBytes += operationBytes(key.length, this.#lengths[slot]!);
    } else {
      slot = this.#allocate();
      this.slots.set(key, slot);
    }
    this.#positions[slot] = position;
    this.#lengths[slot] = length;
    this.#seqs[slot] = seq;
  }

  /**
   * Adds a key known to be new (snapshot load): one hash lookup instead of two. Returns
   * false when the key was there after all, which leaves the index unusable: the caller
   * discards it.
   */
  insertNew(key: string, position: number, length: number, seq: number): boolean {
    const before = this.slots.size;
    const slot = this.#allocate();
    this.slots.set(key, slot);
    this.#positions[slot] = position;
    this.#lengths[slot] = length;
    this.#seqs[slot] = seq;
    return this.slots.size !== before;
  }

  applyDelete(key: string): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.deadBytes += operationBytes(key.length, this.#lengths[slot]!);
      this.slots.delete(key);
      this.#free.push(slot);
    }
    // The delete record itself is garbage for compaction, which writes live puts only.
    this.deadBytes += operationBytes(key.length, null);
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#positions.length) this.#grow();
    return this.#used++;
  }

  #grow(): void {
    const capacity = this.#positions.length * 2;
    const positions = new Float64Array(capacity);
    positions.set(this.#positions);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.#lengths);
    const seqs = new Float64Array(capacity);
    seqs.set(this.#seqs);
    this.#positions = positions;
    this.#lengths = lengths;
    this.#seqs = seqs;
  }
}
